"""Buttons of «Документы и справки» and of /staff «Справки» (short prefixes, real field names).

A module of its own so bot/notify_render.py (the certificate status pushes)
and flows/staff.py (the /staff menu row) import the buttons without the flows.
"""

from __future__ import annotations

from flows.ui.safe_callback import SafeCallback


class DocHome(SafeCallback, prefix="dh"):
    """The section's screens: home, upload, list, certs (my requests), newcert."""

    to: str
    page: int = 0


class DocFor(SafeCallback, prefix="dp"):
    """Upload for this patient (self or a relative)."""

    patient_id: int


class DocAct(SafeCallback, prefix="da"):
    """One document: show, get (resend), del (ask), delok (confirmed)."""

    action: str
    document_id: int


class CertNew(SafeCallback, prefix="cn"):
    """A new request's steps: who (patient_id), kind (kind), att (document_id), done,
    clinic (clinic_id), send, cancel."""

    step: str
    value: int = 0
    kind: str = ""


class CertAct(SafeCallback, prefix="ca"):
    """One of the patient's requests: show, pdf, answer."""

    action: str
    request_id: int


class StCert(SafeCallback, prefix="sc"):
    """/staff «Справки»: list, show, take, ask, ready, refuse, doc (document_id)."""

    action: str
    request_id: int = 0
    document_id: int = 0
    page: int = 0
