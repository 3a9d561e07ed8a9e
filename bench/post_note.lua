-- wrk script for bench/scale-out.sh: every request creates a note,
-- POST <NOTES_PATH> with a small JSON body (the title numbered per wrk
-- thread and request). The server answers 201.
--   wrk -s bench/post_note.lua http://127.0.0.1:PORT
local path = os.getenv("NOTES_PATH") or "/api/notes"
local counter = 0

function init(args)
  counter = 0
end

function request()
  counter = counter + 1
  local body = '{"title":"bench note ' .. counter .. '","body":"written by wrk","tag":"bench"}'
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
end
