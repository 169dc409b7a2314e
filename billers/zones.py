"""A biller's calendar: every "day" of a biller (a payment's date at the
partner, the mapping's "today", a BIF's creation date, the ACH return window,
the portal's days) is a day in the biller's own time zone (`Biller.time_zone`,
an IANA name), never the server's or UTC's."""

import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone


def zone_of(time_zone: str) -> ZoneInfo:
    """The zone of an IANA name (ZoneInfo keeps one instance per name)."""
    return ZoneInfo(time_zone)


def day_in_zone(moment: datetime.datetime, *, time_zone: str) -> datetime.date:
    """The day an aware moment falls on in the zone."""
    return moment.astimezone(zone_of(time_zone)).date()


def today_in_zone(*, time_zone: str, now: datetime.datetime | None = None) -> datetime.date:
    """Today (or the day of `now`) in the zone."""
    return day_in_zone(now or timezone.now(), time_zone=time_zone)


def day_start(day: datetime.date, *, time_zone: str) -> datetime.datetime:
    """The first moment of `day` in the zone (aware)."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=zone_of(time_zone))
