/**
 * The Lua scripts of the Redis checkpoint store, and how they are run: EVALSHA, falling back to EVAL when the
 * server does not know the script (NOSCRIPT: a restarted server, a failover to a replica, SCRIPT FLUSH).
 *
 * Every script touches only keys of one partition, all declared in KEYS and all carrying the partition's hash
 * tag, so each runs on one Cluster slot.
 *
 * Atomicity. A script runs without interleaving, but Redis does not roll back the writes a script made before
 * a runtime error. So COMMIT checks everything that can fail (owner epoch, key types, argument shape, outbox
 * capacity) before its first write, and then only issues writes that cannot fail on keys whose types it checked.
 * Out of memory: with `maxmemory` set, Redis refuses a script's *first* write when over the limit and lets the
 * rest of an already-writing script finish, so a script never stops half way for that reason either; and
 * SCRIPT KILL is refused once a script has written (only SHUTDOWN NOSAVE could stop it, losing the write).
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-connection';

export class LuaScript {
  readonly sha: string;
  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** EVALSHA, or EVAL on NOSCRIPT (which also caches it on that server). */
  async run(client: RedisClient, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    const all: string[] = [...keys, ...args.map(String)];
    try {
      return await client.evalsha(this.sha, keys.length, all);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      // Redis EVAL of one of this module's constant Lua scripts; keys and values travel as arguments, never as code.
      return await client.eval(this.source, keys.length, all);
    }
  }
}

/**
 * COMMIT one batch.
 * KEYS: 1 meta (hash), 2 versions (set), 3 outbox (zset id → sequence), 4 alerts (hash id → JSON),
 *       5.. one state hash per (rule, version) the commit touches.
 * ARGV: 1 epoch, 2 next offset, 3 clock ('' = not started), 4 '1' when 5 replaces the stream state, 5 stream JSON,
 *       6 max outbox, 7 client time (ms), 8 the offset the owner last saw acknowledged ('' = no check);
 *       then per state hash: member, drop ('1': remove the whole hash first), nset, ndel, nset × (field, value), ndel × field;
 *       then nalerts, nalerts × (id, JSON).
 * Returns the partition's commit count.
 */
export const COMMIT = new LuaScript(
  'commit',
  `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if epoch ~= ARGV[1] then
  -- No owner at all while this one had an acknowledged offset: the partition's checkpoint was lost whole.
  if not epoch and ARGV[8] ~= '' then return redis.error_reply('CEPLOST none ' .. ARGV[8]) end
  return redis.error_reply('CEPFENCED ' .. (epoch or 'none'))
end
-- An offset older than one acknowledged to this owner: this server lost writes (restart from an older save,
-- failover to a lagging replica). Offsets are canonical decimals: compare by length, then as strings.
if ARGV[8] ~= '' then
  local stored = redis.call('HGET', KEYS[1], 'offset')
  if not stored or #stored < #ARGV[8] or (#stored == #ARGV[8] and stored < ARGV[8]) then
    return redis.error_reply('CEPLOST ' .. (stored or 'none') .. ' ' .. ARGV[8])
  end
end
local function checkType(key, want)
  local t = redis.call('TYPE', key)['ok']
  if t ~= 'none' and t ~= want then
    return redis.error_reply('WRONGTYPE ' .. key .. ' holds a ' .. t .. ', not a ' .. want)
  end
  return nil
end
local bad = checkType(KEYS[2], 'set') or checkType(KEYS[3], 'zset') or checkType(KEYS[4], 'hash')
if bad then return bad end

-- 1. Parse and check everything; no writes yet.
local ops = {}
local pos = 9
for i = 5, #KEYS do
  bad = checkType(KEYS[i], 'hash')
  if bad then return bad end
  local nset = tonumber(ARGV[pos + 2])
  local ndel = tonumber(ARGV[pos + 3])
  if nset == nil or ndel == nil then return redis.error_reply('CEPBADARGS state ' .. i) end
  ops[#ops + 1] = { key = KEYS[i], member = ARGV[pos], drop = ARGV[pos + 1] == '1', nset = nset, ndel = ndel, at = pos + 4 }
  pos = pos + 4 + 2 * nset + ndel
end
local nalerts = tonumber(ARGV[pos])
if nalerts == nil or pos + 2 * nalerts ~= #ARGV then return redis.error_reply('CEPBADARGS alerts') end
local apos = pos + 1
-- The ARGV index of each alert to add: not in the outbox yet, first occurrence in this commit.
local freshAt = {}
local seen = {}
for j = 0, nalerts - 1 do
  local id = ARGV[apos + 2 * j]
  if not seen[id] then
    seen[id] = true
    if not redis.call('ZSCORE', KEYS[3], id) then freshAt[#freshAt + 1] = apos + 2 * j end
  end
end
local fresh = #freshAt
local size = redis.call('ZCARD', KEYS[3])
-- An empty outbox takes any one commit: a batch with more alerts than the bound would otherwise wait forever.
if fresh > 0 and size > 0 and size + fresh > tonumber(ARGV[6]) then
  return redis.error_reply('CEPOUTBOXFULL ' .. size .. ' ' .. fresh)
end

-- 2. Write, many fields per command (a call per field was most of Redis' time); CHUNK keeps unpack()
-- far below Lua's stack limit.
local CHUNK = 256
for _, op in ipairs(ops) do
  if op.drop then redis.call('DEL', op.key) end
  local p = op.at
  local left = op.nset
  while left > 0 do
    local n = math.min(left, CHUNK)
    redis.call('HSET', op.key, unpack(ARGV, p, p + 2 * n - 1))
    p = p + 2 * n
    left = left - n
  end
  left = op.ndel
  while left > 0 do
    local n = math.min(left, CHUNK)
    redis.call('HDEL', op.key, unpack(ARGV, p, p + n - 1))
    p = p + n
    left = left - n
  end
  if redis.call('EXISTS', op.key) == 1 then
    redis.call('SADD', KEYS[2], op.member)
  else
    redis.call('SREM', KEYS[2], op.member)
  end
end
if fresh > 0 then
  -- The outbox order: one sequence number per added alert, in commit order.
  local seq = redis.call('HINCRBY', KEYS[1], 'outseq', fresh) - fresh
  for first = 1, fresh, CHUNK do
    local scored, fields = {}, {}
    for m = first, math.min(fresh, first + CHUNK - 1) do
      local at = freshAt[m]
      seq = seq + 1
      scored[#scored + 1] = seq
      scored[#scored + 1] = ARGV[at]
      fields[#fields + 1] = ARGV[at]
      fields[#fields + 1] = ARGV[at + 1]
    end
    redis.call('ZADD', KEYS[3], unpack(scored))
    redis.call('HSET', KEYS[4], unpack(fields))
  end
end
redis.call('HSET', KEYS[1], 'offset', ARGV[2], 'clock', ARGV[3], 'at', ARGV[7])
if ARGV[4] == '1' then redis.call('HSET', KEYS[1], 'stream', ARGV[5]) end
return redis.call('HINCRBY', KEYS[1], 'commits', 1)
`,
);

/**
 * CLAIM a partition (load): bumps the owner epoch and reads the checkpoint's header.
 * KEYS: 1 meta, 2 versions, 3 outbox. Returns [epoch, [offset, clock, stream], members, outbox size].
 * The epoch is at least the server's clock in µs: a Redis that lost writes (an older save, a lagging replica)
 * could otherwise hand out an epoch again that an earlier owner still holds, and that owner would not be
 * fenced. 1.7e15 is far below 2^53, so Lua's numbers and JavaScript's hold it exactly.
 */
export const CLAIM = new LuaScript(
  'claim',
  `
local epoch = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if epoch < now then
  epoch = now
  redis.call('HSET', KEYS[1], 'epoch', string.format('%.0f', epoch))
end
return { epoch, redis.call('HMGET', KEYS[1], 'offset', 'clock', 'stream'), redis.call('SMEMBERS', KEYS[2]), redis.call('ZCARD', KEYS[3]) }
`,
);

/** PENDING alerts, oldest first. KEYS: 1 outbox, 2 alerts. ARGV: 1 limit. Returns [id, json, id, json, …]. */
export const PENDING = new LuaScript(
  'pending',
  `
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
local out = {}
for _, id in ipairs(ids) do
  local json = redis.call('HGET', KEYS[2], id)
  if json then
    out[#out + 1] = id
    out[#out + 1] = json
  end
end
return out
`,
);

/** ACK alerts. KEYS: 1 outbox, 2 alerts. ARGV: ids. Returns how many were in the outbox. */
export const ACK = new LuaScript(
  'ack',
  `
local n = 0
for first = 1, #ARGV, 512 do
  local last = math.min(#ARGV, first + 511)
  n = n + redis.call('ZREM', KEYS[1], unpack(ARGV, first, last))
  redis.call('HDEL', KEYS[2], unpack(ARGV, first, last))
end
return n
`,
);

/**
 * DROP_PARTITION: removes every key of a partition nobody reads any more, when ARGV[1] is still its owner
 * epoch (the caller's load took it) and its outbox is empty. KEYS: 1 meta, 2 versions, 3 outbox, 4 alerts, 5…
 * the state hash of each rule version ARGV[2…] names (read from the versions set just before). Returns
 * 'dropped', 'fenced', 'outbox', or 'changed' when the versions set no longer matches ARGV (read it again).
 */
export const DROP_PARTITION = new LuaScript(
  'drop-partition',
  `
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then return 'fenced' end
if redis.call('ZCARD', KEYS[3]) > 0 then return 'outbox' end
if redis.call('SCARD', KEYS[2]) ~= #ARGV - 1 then return 'changed' end
for i = 2, #ARGV do
  if redis.call('SISMEMBER', KEYS[2], ARGV[i]) == 0 then return 'changed' end
end
-- UNLINK: a large state hash is freed in the background instead of blocking Redis.
for i = 1, #KEYS do redis.call('UNLINK', KEYS[i]) end
return 'dropped'
`,
);
