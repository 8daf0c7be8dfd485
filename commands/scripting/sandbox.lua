-- The environment scripts run in, built once per Lua VM (commands/scripting/lua_engine.py).
-- Loaded as the chunk "=redis": the error handler skips frames of this chunk so an error
-- is reported at the script's line, as Redis reports it.
--
-- Arguments: the Python side of the redis.* API.
local py = ...

local G = _G
local rawget, rawset, type, tostring, error = rawget, rawset, type, tostring, error
local select, unpack, setmetatable, loadstring, setfenv = select, unpack, setmetatable, loadstring, setfenv
local xpcall, lua_pcall = xpcall, pcall
local getinfo, sethook = debug.getinfo, debug.sethook

local function pack(...)
  return {n = select('#', ...), ...}
end

local function readonly_error()
  error('Attempt to modify a readonly table', 2)
end

-- A read-only view of a table (Redis 7 marks its tables read-only in its patched Lua;
-- a proxy with no fields of its own and a __newindex that refuses gives the same errors).
local function readonly(t)
  return setmetatable({}, {__index = t, __newindex = readonly_error, __metatable = false})
end

-- ------------------------------------------------------------------ the redis table
-- Its functions are Python's (lua_engine.py), so they are C functions to Lua: a script's
-- `return redis.call(...)` keeps the script's frame (Lua 5.1 makes no tail call to a C
-- function), and errors report the script's line, as Redis's do. They raise their errors
-- as Python exceptions carrying the {err=...} table; py.error_of recovers it.
local redis = {}
for _, name in ipairs({'call', 'pcall', 'sha1hex', 'error_reply', 'status_reply', 'log',
                       'setresp', 'set_repl', 'replicate_commands', 'breakpoint', 'debug'}) do
  redis[name] = py[name]
end
local error_of = py.error_of

redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.REDIS_VERSION = py.version
redis.REDIS_VERSION_NUM = py.version_num

-- ------------------------------------------------------------------ pcall, errors
-- Redis 7 raises redis.call's errors as {err=...} tables; its pcall gives scripts the
-- message string, as older versions did.
local function redis_pcall(f, ...)
  local r = pack(lua_pcall(f, ...))
  if not r[1] and type(r[2]) == 'userdata' then
    r[2] = error_of(r[2]) or r[2]
  end
  if not r[1] and type(r[2]) == 'table' and type(rawget(r[2], 'err')) == 'string' then
    return false, rawget(r[2], 'err')
  end
  return unpack(r, 1, r.n)
end

-- Where the script failed: the first frame that is neither C nor this chunk.
local function error_handler(err)
  local level = 2
  local info = getinfo(level, 'nSl')
  while info and (info.what == 'C' or info.source == '=redis') do
    level = level + 1
    info = getinfo(level, 'nSl')
  end
  if type(err) == 'userdata' then
    err = error_of(err) or err
  end
  if type(err) ~= 'table' then
    err = {err = 'ERR ' .. tostring(err)}
  end
  if info then
    rawset(err, 'source', info.source)
    rawset(err, 'line', info.currentline)
  end
  return err
end

-- ------------------------------------------------------------------ the globals
-- What Redis removes from a script's reach; the libraries it does not load.
-- (getfenv/setfenv go too, as in 7.0.15: with them a script could reach the real globals.)
for _, name in ipairs({'os', 'io', 'debug', 'package', 'require', 'module', 'print',
                       'dofile', 'loadfile', 'getfenv', 'setfenv', 'newproxy'}) do
  G[name] = nil
end
for _, lib in ipairs(py.libraries) do
  G[lib] = py[lib]
end
G.pcall = redis_pcall
G.redis = readonly(redis)
for _, name in ipairs({'string', 'math', 'table', 'coroutine', 'cjson', 'bit', 'struct',
                       'cmsgpack'}) do
  if G[name] ~= nil then G[name] = readonly(G[name]) end
end

-- The scripts' globals: reading an unknown name and writing any name are errors.
-- While FUNCTION LOAD runs a library's body, `library_api` stands in for the globals
-- (function_lua.c swaps the globals' __index the same way): the body reaches only
-- redis.register_function, redis.log and the version fields; the functions it
-- registers see the ordinary globals when FCALL runs them later.
local library_api = nil
local function missing_global(name)
  error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 3)
end
local env = setmetatable({}, {
  __index = function(_, name)
    local v = rawget(library_api or G, name)
    if v == nil then missing_global(name) end
    return v
  end,
  __newindex = readonly_error,
  __metatable = false,
})
G._G = env
setmetatable(G, {__newindex = readonly_error, __metatable = false})

-- ------------------------------------------------------------------ the engine's side
local engine = {}

-- The position prefix ("user_script:1: ") of the script line that called the library
-- function now running in Python (level 1: this, 2: the Python function, 3: its caller).
-- Also the function's name as its caller sees it ('?' if none), for luaL_argerror.
function engine.where()
  local called = getinfo(2, 'n')
  local name = called and called.name or '?'
  local info = getinfo(3, 'Sl')
  if info and info.currentline > 0 then
    return info.short_src .. ':' .. info.currentline .. ': ', name
  end
  return '', name
end

function engine.compile(body)
  local f, err = loadstring(body, '@user_script')
  if not f then return false, err end
  setfenv(f, env)
  return true, f
end

-- The count hook lets a long script share the process and be killed (lua_engine.py
-- _interrupt). Once killed it fires on every line, so a pcall in the script cannot
-- swallow the kill and go on (as Redis does).
local interrupt = py.interrupt
local function hook()
  -- Never inside this chunk (the error handler, engine.run): only the script is killed.
  local where = getinfo(2, 'S')
  if where and where.source == '=redis' then return end
  if interrupt() then
    sethook(hook, 'l')
    error({err = 'ERR Script killed by user with SCRIPT KILL...'})
  end
end

-- ------------------------------------------------------------------ functions
-- Only the functions' VM has py.register_function (lua_engine.py, functions=true).
if py.register_function then
  local load_redis = {register_function = py.register_function, log = redis.log,
                      LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
                      REDIS_VERSION = py.version, REDIS_VERSION_NUM = py.version_num}
  local the_library_api = {redis = setmetatable({}, {
    __index = function(_, name)
      local v = rawget(load_redis, name)
      if v == nil then missing_global(name) end
      return v
    end,
    __newindex = readonly_error,
    __metatable = false,
  })}
  local load_timed_out = py.load_timed_out

  local function load_hook()
    local where = getinfo(2, 'S')
    if where and where.source == '=redis' then return end
    if load_timed_out() then
      sethook(load_hook, 'l')
      error({err = 'ERR FUNCTION LOAD timeout'})
    end
  end

  function engine.compile_library(body)
    local f, err = loadstring(body, '@user_function')
    if not f then return false, err end
    setfenv(f, env)
    return true, f
  end

  -- Runs a library's body: its redis.register_function calls land in Python. An error
  -- comes back as its message ("ERR ..."), as luaEngineCreate reports it.
  function engine.load_library(f)
    library_api = the_library_api
    sethook(load_hook, '', py.hook_instructions)
    local ok, err = lua_pcall(f)
    sethook()
    library_api = nil
    if ok then return true, nil end
    if type(err) == 'userdata' then err = error_of(err) or err end
    if type(err) == 'table' and type(rawget(err, 'err')) == 'string' then
      return false, rawget(err, 'err')
    end
    return false, 'ERR ' .. tostring(err)
  end

  -- FCALL: the function gets KEYS and ARGV as its two arguments, not as globals.
  -- (xpcall passes no arguments in Lua 5.1: they wait in upvalues of one runner,
  -- rather than in a closure made per call.)
  local call_f, call_keys, call_argv
  local function run_pending()
    local f, keys, argv = call_f, call_keys, call_argv
    call_f, call_keys, call_argv = nil, nil, nil
    return f(keys, argv)
  end
  function engine.call_function(f, keys, argv)
    call_f, call_keys, call_argv = f, keys, argv
    sethook(hook, '', py.hook_instructions)
    local r = pack(xpcall(run_pending, error_handler))
    sethook()
    return r[1], r[2]
  end
end

function engine.run(f, keys, argv)
  rawset(G, 'KEYS', keys)
  rawset(G, 'ARGV', argv)
  sethook(hook, '', py.hook_instructions)
  local r = pack(xpcall(f, error_handler))
  sethook()
  return r[1], r[2]
end

return engine
