-- What the map's marks need, summed per month, so a view of dates and types
-- (the common one: every event, a slider range, a few types) never reads the
-- events for its marks.  At ten million events the marks' two questions
-- scanned six and three million rows per render.
--
-- cell_months: events placed to a town or near it (not region- or
-- country-level) per month, type, sub-type and cell of a 1-degree grid
-- (r = floor((latitude + 90) / 1), c = floor((longitude + 180) / 1)), with
-- the sums of their coordinates: the map's cells of 1, 2, 4 ... degrees
-- (zoom 5 and out) are sums of these (pg_marks.clusters).
-- coarse_months: region- and country-level events per month, type,
-- sub-type, precision and region, with the sums of their coordinates
-- (pg_marks.coarse_counts: the region circles and the country note).
-- The days of a range outside its whole months are read from the events.
-- Both are rebuilt by the import (pg_derived.py) and filled here for a
-- database imported before this version.
CREATE TABLE cell_months (
    month date NOT NULL,
    event_type text NOT NULL,
    sub_event_type text NOT NULL,
    r integer NOT NULL,
    c integer NOT NULL,
    n bigint NOT NULL,
    sum_lat double precision NOT NULL,
    sum_lon double precision NOT NULL,
    PRIMARY KEY (month, event_type, sub_event_type, r, c)
);
CREATE TABLE coarse_months (
    month date NOT NULL,
    event_type text NOT NULL,
    sub_event_type text NOT NULL,
    geo_precision text NOT NULL,
    admin1_code text NOT NULL,
    n bigint NOT NULL,
    sum_lat double precision,
    sum_lon double precision,
    PRIMARY KEY (month, event_type, sub_event_type, geo_precision, admin1_code)
);
INSERT INTO cell_months
SELECT date_trunc('month', event_date)::date, event_type, sub_event_type,
       floor((latitude + 90) / 1.0)::int, floor((longitude + 180) / 1.0)::int, count(*), sum(latitude), sum(longitude)
FROM events WHERE geo_precision NOT IN ('region', 'country') AND latitude IS NOT NULL AND longitude IS NOT NULL
GROUP BY 1, 2, 3, 4, 5;
INSERT INTO coarse_months
SELECT date_trunc('month', event_date)::date, event_type, sub_event_type, geo_precision, admin1_code, count(*), sum(latitude), sum(longitude)
FROM events WHERE geo_precision IN ('region', 'country')
GROUP BY 1, 2, 3, 4, 5;

-- Migration 0004 created region_months empty, so a database moved to it by an
-- import that changed nothing (and so rebuilt nothing) had no region counts
-- for views of dates and types until its next changing import: filled again here.
DELETE FROM region_months;
INSERT INTO region_months
SELECT date_trunc('month', event_date)::date, event_type, sub_event_type, admin1_code, count(*)
FROM events WHERE admin1_code <> '' GROUP BY 1, 2, 3, 4;
