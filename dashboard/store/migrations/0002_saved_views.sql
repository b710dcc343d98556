-- Saved views (briefing slides), shared by every worker and machine.
-- Saving a name again replaces it and moves it to the end, as the file does.
CREATE SEQUENCE saved_view_position;
CREATE TABLE saved_views (
    name text PRIMARY KEY,
    query text NOT NULL,
    saved_at text NOT NULL DEFAULT '',
    position bigint NOT NULL DEFAULT nextval('saved_view_position')
);
