-- Problems in an event's non-essential fields (a note where a link should be,
-- bad fatalities...), kept with the event rather than rejecting it.
ALTER TABLE events ADD COLUMN IF NOT EXISTS warnings text NOT NULL DEFAULT '';
