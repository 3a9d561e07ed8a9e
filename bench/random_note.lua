-- wrk script for bench/run-data.sh: every request is GET <prefix><id> with an
-- id drawn uniformly from 1..NOTES (environment; default 1000). The seed is
-- fixed, so each server gets the same sequence of ids.
--   wrk -s bench/random_note.lua http://127.0.0.1:PORT
local prefix = os.getenv("NOTES_PATH") or "/api/notes/"
local notes = tonumber(os.getenv("NOTES") or "1000")

function init(args)
  math.randomseed(20240501)
end

function request()
  return wrk.format("GET", prefix .. math.random(1, notes))
end
