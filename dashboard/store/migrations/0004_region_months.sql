-- Region counts per month instead of per day: at a million events the
-- per-day table had nearly as many rows as the events (689,000) and was
-- slower to read than the events themselves.  Whole months of a view come
-- from here, the days at its ends from the events (postgis.py).
DROP TABLE IF EXISTS region_counts;
CREATE TABLE region_months (
    month date NOT NULL,  -- the month's first day
    event_type text NOT NULL,
    sub_event_type text NOT NULL,
    admin1_code text NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (month, event_type, sub_event_type, admin1_code)
);
