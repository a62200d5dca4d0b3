"""What an SOS e-mail or text says, in the reader's language: who, what, when, who knows, a link.

A daughter reading a text on the bus needs four things at once: what happened to whom, at
what time of her mother's day (the elder's zone, named), who has already been told or is
handling it, and where to press. The words live in the catalog (``sos.msg.*``).
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol import Lang, Role
from server.models import Elder, SosAlert, User
from server.web.i18n import translate
from server.web.when import duration_words, local, zone_name_words

# A text message is cut here (gateways split or refuse longer ones).
TEXT_LIMIT = 300
# Kinds of sensor event with words in the catalog (``sos.sensor.<kind>``); a sensor's detail
# starts with its kind ("bed_exit room 2"), and an unknown kind is shown as it came.
SENSOR_KINDS = ("fall", "bed_exit", "door_open", "smoke", "water_leak")


def detail_words(lang: Lang, detail: str) -> str:
    """An alert's detail with a known sensor kind in words ("bed_exit 2" -> "out of bed 2")."""
    kind, _, rest = detail.partition(" ")
    if kind in SENSOR_KINDS:
        kind = translate(lang, f"sos.sensor.{kind}")
    return f"{kind} {rest}".strip()


@dataclass(frozen=True)
class Told:
    """Who knows about the alert when this message goes out."""

    board: bool = True  # the operators on duty of the elder's area
    family: int = 0  # linked family members reached
    contacts: int = 0  # emergency contacts already alerted before this one
    waited_seconds: float | None = None  # since the alert, when nobody has answered yet
    position: int | None = None  # this reader's place in the contact list


@dataclass(frozen=True)
class Wording:
    """One message to one reader: an e-mail (subject, body) and a text."""

    subject: str
    body: str
    text: str


def alert_link(base_url: str, alert: SosAlert, user: User | None) -> str:
    """The page that shows this alert to ``user`` (no link for a contact without an account)."""
    if user is None:
        return ""
    page = "family" if user.role is Role.FAMILY else "operator"
    return f"{base_url.rstrip('/')}/{page}#sos-alert-{alert.id}"


def sos_wording(elder: Elder, alert: SosAlert, lang: Lang, told: Told, link: str) -> Wording:
    """The SOS message for one reader in ``lang``."""
    what = translate(lang, f"sos.msg.what.{alert.source.value}", name=elder.name)
    if alert.detail:
        what += translate(lang, "sos.msg.detail", detail=detail_words(lang, alert.detail))
    moment = local(alert.raised_at, elder.timezone)
    at = translate(
        lang,
        "sos.msg.at",
        time=moment.strftime("%H:%M"),
        date=moment.strftime("%Y-%m-%d"),
        zone=zone_name_words(lang, elder.timezone),
    )
    if told.position is not None:
        knows = translate(
            lang,
            "sos.msg.told_contact",
            waited=duration_words(lang, told.waited_seconds),
            position=told.position,
        )
    elif told.waited_seconds is not None:
        knows = translate(
            lang,
            "sos.msg.told_supervisor",
            waited=duration_words(lang, told.waited_seconds),
            contacts=told.contacts,
        )
    else:
        knows = translate(lang, "sos.msg.told_first", family=told.family)
    headline = translate(lang, "sos.msg.headline", what=what, at=at)
    lines = [headline]
    if elder.address:
        lines.append(translate(lang, "sos.msg.address", address=elder.address))
    if elder.phone:
        lines.append(translate(lang, "sos.msg.phone", phone=elder.phone))
    lines.append(knows)
    lines.append(
        translate(lang, "sos.msg.open", link=link) if link else translate(lang, "sos.msg.call")
    )
    subject = translate(lang, "sos.msg.subject", name=elder.name, what=what)
    body = "\n".join(lines) + "\n" + translate(lang, "msg.signature")
    where = translate(lang, "sos.msg.text_where", address=elder.address) if elder.address else ""
    text = translate(lang, "sos.msg.text", headline=headline, where=where, knows=knows, link=link)
    if len(text) > TEXT_LIMIT:  # who else knows is the part a text can do without
        text = translate(lang, "sos.msg.text", headline=headline, where=where, knows="", link=link)
    return Wording(subject=subject, body=body, text=" ".join(text.split())[:TEXT_LIMIT])


def handled_wording(elder: Elder, alert: SosAlert, by: User, lang: Lang, link: str) -> Wording:
    """The follow-up for the family: who took the alert, when, and where to follow it."""
    assert alert.acknowledged_at is not None
    moment = local(alert.acknowledged_at, elder.timezone)
    values = {
        "name": elder.name,
        "by": by.name,
        "role": translate(lang, f"role.{by.role.value}"),
        "time": moment.strftime("%H:%M"),
        "zone": zone_name_words(lang, elder.timezone),
        "span": duration_words(lang, (alert.acknowledged_at - alert.stored_at).total_seconds()),
    }
    said = translate(lang, "sos.msg.handled_body", **values)
    lines = [said, translate(lang, "sos.msg.follow", link=link), translate(lang, "msg.signature")]
    subject = translate(lang, "sos.msg.handled_subject", **values)
    return Wording(subject=subject, body="\n".join(lines), text=said[:TEXT_LIMIT])
