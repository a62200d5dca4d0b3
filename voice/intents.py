"""What the elder asked for by voice, as frozen event records for the box.

The box (not this package) turns an IntentEvent into a protocol message or a
screen action; voice/ knows nothing of the wire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum


class Intent(StrEnum):
    """Things an elder can say to the box."""

    SOS = "sos"
    CALL_DOCTOR = "call_doctor"
    CALL_FAMILY = "call_family"
    TAKEN = "taken"  # "I took my medicine"
    YES = "yes"
    NO = "no"
    NEXT_MEDICINE = "next_medicine"
    REPEAT = "repeat"
    # No phrase of its own: an SOS phrase heard only once. On this model a single cry
    # cannot be told from some everyday sentences ("다 왔어요" is heard as "도와주 세요"
    # by both decodes), so the box asks "Do you need help?" before it calls anyone.
    MAYBE_SOS = "maybe_sos"


# Every intent a grammar has phrases for.
ALL_INTENTS: frozenset[Intent] = frozenset(Intent) - {Intent.MAYBE_SOS}

# A phrase grammar is a loop over its words, so every extra word is another way to
# mishear: the box listens only for what makes sense on the current screen. SOS is
# always included.
IDLE_INTENTS: frozenset[Intent] = frozenset(
    {Intent.SOS, Intent.CALL_DOCTOR, Intent.CALL_FAMILY, Intent.NEXT_MEDICINE, Intent.REPEAT}
)
ANSWER_INTENTS: frozenset[Intent] = frozenset(
    {Intent.SOS, Intent.TAKEN, Intent.YES, Intent.NO, Intent.REPEAT}
)
SOS_ONLY: frozenset[Intent] = frozenset({Intent.SOS})


@dataclass(frozen=True)
class IntentEvent:
    """An accepted utterance: the elder said `phrase`, meaning `intent`."""

    intent: Intent
    phrase: str  # the grammar phrase, in vocabulary pieces (e.g. "도와주 세요")
    lang: str
    confidence: float  # lowest word confidence in the utterance, 0.0-1.0
    utterance_end_at: float  # time.monotonic() when the elder stopped speaking
    decided_at: float  # time.monotonic() when the intent was accepted
    at: datetime = field(default_factory=lambda: datetime.now(UTC))  # wall clock, UTC

    @property
    def latency_s(self) -> float:
        """Seconds from the end of speech to the decision."""
        return self.decided_at - self.utterance_end_at


@dataclass(frozen=True)
class HeardUtterance:
    """Everything the recognizer finalized, accepted or not (for logs and benchmarks)."""

    text: str
    lang: str
    word_confidences: tuple[float, ...]
    intent: Intent | None  # None when rejected
    # "accepted", "accepted_repeated" (an SOS heard again within SOS_REPEAT_WINDOW_S),
    # "sos_ask" (an SOS heard once: MAYBE_SOS), "sos_unconfirmed" (heard once and the SOS
    # check heard something else: nothing yet), "no_phrase", "low_confidence"
    reason: str
    utterance_end_at: float
    decided_at: float
    speech_s: float = 0.0  # how long the level detector heard speech in the utterance
    words_s: float = 0.0  # from the start of the first word to the end of the last
    # What the SOS check's second decode heard (voice/sos_check.py), when it ran.
    sos_check_text: str = ""
    sos_check_confidences: tuple[float, ...] = ()
