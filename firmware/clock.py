# Calendar text from UTC seconds, without the device's own epoch or time zone (the hub's
# time_sync gives UTC seconds and the hall's offset).


def civil(days):
    # Days since 1970-01-01 -> (year, month, day), proleptic Gregorian (H. Hinnant's method).
    days += 719468
    era = (days if days >= 0 else days - 146096) // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if month <= 2 else 0), month, day


def local_text(utc, tz_offset_s):
    # "2026-11-23 09:05" in the hall's time.
    t = utc + tz_offset_s
    year, month, day = civil(t // 86400)
    minute = t % 86400 // 60
    return "%04d-%02d-%02d %02d:%02d" % (year, month, day, minute // 60, minute % 60)


def local_date(utc, tz_offset_s):
    year, month, day = civil((utc + tz_offset_s) // 86400)
    return "%04d%02d%02d" % (year, month, day)
