"""HL7 FHIR R4 import of a clinic's schedule and export of appointments (issue 11)."""
