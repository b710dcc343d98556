-- Summaries that spare the events table two more kinds of question.
--
-- event_counts gains date_precision, so the legend's counts per date
-- precision are sums over the same summary as the other counts (no query
-- over every matching event on every render).
--
-- actor_counts: events per actor, day, type, sub-type, country-level flag
-- and date precision, each event once per DISTINCT actor among actor1 and
-- actor2.  actor_pair_counts: the same per unordered pair of two different
-- actors of one event (low < high), so a view of several actors subtracts
-- the events it would otherwise count twice (sql.summary_query).
-- actor_region_months, actor_pair_region_months: the same per month and
-- region, as region_months.  All four are rebuilt by the import (_finish)
-- and filled here for a database imported before this version.
--
-- The actor indexes are replaced by ones that also give an actor's newest
-- events first, and the region and country indexes by ones that include
-- date_precision, so a region's summary stays an index-only scan
-- (pg_import.INDEXES creates them).
ALTER TABLE event_counts ADD COLUMN date_precision text NOT NULL DEFAULT '';
ALTER TABLE event_counts DROP CONSTRAINT event_counts_pkey;
DELETE FROM event_counts;
INSERT INTO event_counts (event_date, event_type, sub_event_type, country_level, date_precision, n)
SELECT event_date, event_type, sub_event_type, geo_precision = 'country', date_precision, count(*)
FROM events GROUP BY 1, 2, 3, 4, 5;
ALTER TABLE event_counts ADD PRIMARY KEY (event_date, event_type, sub_event_type, country_level, date_precision);

CREATE TABLE actor_counts (
    actor text NOT NULL,
    event_date date NOT NULL,
    event_type text NOT NULL,
    sub_event_type text NOT NULL,
    country_level boolean NOT NULL,
    date_precision text NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (actor, event_date, event_type, sub_event_type, country_level, date_precision)
);
CREATE TABLE actor_pair_counts (
    low text NOT NULL,
    high text NOT NULL,
    event_date date NOT NULL,
    event_type text NOT NULL,
    sub_event_type text NOT NULL,
    country_level boolean NOT NULL,
    date_precision text NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (low, high, event_date, event_type, sub_event_type, country_level, date_precision)
);
CREATE TABLE actor_region_months (
    actor text NOT NULL,
    month date NOT NULL,
    event_type text NOT NULL,
    sub_event_type text NOT NULL,
    admin1_code text NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (actor, month, event_type, sub_event_type, admin1_code)
);
CREATE TABLE actor_pair_region_months (
    low text NOT NULL,
    high text NOT NULL,
    month date NOT NULL,
    event_type text NOT NULL,
    sub_event_type text NOT NULL,
    admin1_code text NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (low, high, month, event_type, sub_event_type, admin1_code)
);

CREATE TEMP TABLE event_actors ON COMMIT DROP AS
SELECT actor1 AS actor, event_date, event_type, sub_event_type, geo_precision, date_precision, admin1_code FROM events
UNION ALL
SELECT actor2, event_date, event_type, sub_event_type, geo_precision, date_precision, admin1_code FROM events WHERE actor2 <> actor1;
INSERT INTO actor_counts
SELECT actor, event_date, event_type, sub_event_type, geo_precision = 'country', date_precision, count(*) FROM event_actors GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO actor_region_months
SELECT actor, date_trunc('month', event_date)::date, event_type, sub_event_type, admin1_code, count(*)
FROM event_actors WHERE admin1_code <> '' GROUP BY 1, 2, 3, 4, 5;
INSERT INTO actor_pair_counts
SELECT least(actor1, actor2), greatest(actor1, actor2), event_date, event_type, sub_event_type, geo_precision = 'country', date_precision, count(*)
FROM events WHERE actor1 <> actor2 GROUP BY 1, 2, 3, 4, 5, 6, 7;
INSERT INTO actor_pair_region_months
SELECT least(actor1, actor2), greatest(actor1, actor2), date_trunc('month', event_date)::date, event_type, sub_event_type, admin1_code, count(*)
FROM events WHERE actor1 <> actor2 AND admin1_code <> '' GROUP BY 1, 2, 3, 4, 5, 6;

DROP INDEX IF EXISTS events_actor1;
DROP INDEX IF EXISTS events_actor2;
DROP INDEX IF EXISTS events_region;
DROP INDEX IF EXISTS events_country;
