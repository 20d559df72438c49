"""What the patient reads when the schedule's owner (Gorzdrav) refused or did not answer.

The words moved to flows/refusals.py (every refusal worded once); this name stays
for its callers.
"""

from __future__ import annotations

from flows.refusals import remote_refusal_text as remote_refusal_text
