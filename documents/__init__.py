"""Files the bot hands to patients: an .ics calendar entry and a PDF confirmation.

Both builders take plain, already-translated strings: rendering (locale,
Babel dates) happens in the flow that has the i18n context, so these
modules stay pure functions of their arguments and are easy to test.
"""

from documents.ics import Organizer, appointment_ics
from documents.pdf import appointment_pdf

__all__ = ["Organizer", "appointment_ics", "appointment_pdf"]
