"""判客 (attribution): the channel rules of domain/channel-rules.md as one pure engine.

The cloud decides with decide(); the edge runs the same function on its customer cache
for the kiosk's provisional answer (provisional_answer) and shows the cloud's decision,
and the difference (differences), when it arrives. docs/attribution.md describes the
rules, the reason codes and the scenario files that `anchang channel replay` reads.
"""

from shared.attribution.engine import decide
from shared.attribution.events import (
    ConsultantAssignment,
    DealMilestone,
    Event,
    FollowUp,
    NumberCompletion,
    OldOwnerFact,
    Override,
    PoolRelease,
    QrCheckIn,
    Referral,
    ReferralReview,
    Visit,
)
from shared.attribution.inputs import AttributionInputError
from shared.attribution.kiosk import KioskAnswer, differences, kiosk_answer, provisional_answer
from shared.attribution.outcome import (
    Change,
    Decision,
    Owner,
    Reason,
    ReferralOutcome,
    TraceStep,
)
from shared.attribution.reasons import REASON_TEXT, ReasonCode
from shared.attribution.rules import RuleSet, RulesHistory, TeamOverride

__all__ = [
    "REASON_TEXT",
    "AttributionInputError",
    "Change",
    "ConsultantAssignment",
    "DealMilestone",
    "Decision",
    "Event",
    "FollowUp",
    "KioskAnswer",
    "NumberCompletion",
    "OldOwnerFact",
    "Override",
    "Owner",
    "PoolRelease",
    "QrCheckIn",
    "Reason",
    "ReasonCode",
    "Referral",
    "ReferralOutcome",
    "ReferralReview",
    "RuleSet",
    "RulesHistory",
    "TeamOverride",
    "TraceStep",
    "Visit",
    "decide",
    "differences",
    "kiosk_answer",
    "provisional_answer",
]
