// `peer.mjs dial`: connect to one libp2p peer and run the named scenarios on that connection,
// one JSON line per scenario ({"scenario": NAME, "ok": BOOL, ...}; see README.md).
import { createHash, randomBytes, randomInt } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import process from 'node:process'
import { multiaddr } from '@multiformats/multiaddr'
import { diag, errText, intOpt, loadKey, out, setDiagPrefix, sleep, UsageError, withTimeout } from './common.mjs'
import {
  describeConnection, describeIdentify, ECHO, makeNode, PING, registerHandlers, RESET, SINK
} from './peer-node.mjs'
import { keystream, MiB, Reader, round3, sendAll, stats } from './peer-streams.mjs'

function sizeOpt (opts, name, dflt) {
  if (opts[name] === undefined) return dflt
  const m = /^(\d+)([KMG]?)(i?B)?$/i.exec(opts[name])
  if (m == null) throw new UsageError(`--${name}: bad size ${opts[name]}`)
  const mult = { '': 1, K: 1024, M: MiB, G: 1024 * MiB }[m[2].toUpperCase()]
  const v = Number(m[1]) * mult
  if (!Number.isSafeInteger(v) || v <= 0) throw new UsageError(`--${name}: bad size ${opts[name]}`)
  return v
}

// ---------------------------------------------------------------------------------------------
// Scenarios: each takes ctx = { node, conn, target, opts, identified } and returns its JSON
// result ({ ok, ... }, plus error when not ok); runDial adds the scenario name.

async function pingOnStream (conn, rounds) {
  // Our own /ipfs/ping/1.0.0 client: `rounds` 32-byte pings on one stream, timed precisely.
  const t0 = performance.now()
  const stream = await conn.newStream(PING)
  const opened = performance.now() - t0
  const reader = new Reader(stream)
  const rtts = []
  try {
    for (let i = 0; i < rounds; i++) {
      const payload = randomBytes(32)
      const t = performance.now()
      stream.send(payload)
      const echo = await reader.read(32)
      rtts.push(performance.now() - t)
      if (!echo.equals(payload)) throw new Error(`ping ${i}: reply does not match`)
    }
    await stream.close()
  } catch (err) {
    stream.abort(err)
    throw err
  }
  return { openMs: opened, rtts }
}

async function scPing (ctx) {
  const count = intOpt(ctx.opts, 'count', 5, 1)
  const serviceRtts = []
  const elapsed = []
  for (let i = 0; i < count; i++) {
    const t = performance.now()
    serviceRtts.push(await ctx.node.services.ping.ping(ctx.conn.remotePeer))
    elapsed.push(round3(performance.now() - t))
  }
  // The js ping client writes 32 bytes and closes its write side at once; also exercise the
  // responder with several pings on one stream.
  const one = await pingOnStream(ctx.conn, count)
  return {
    ok: true,
    count,
    rttMs: serviceRtts,
    elapsedMs: elapsed,
    oneStreamRttMs: one.rtts.map(round3),
    oneStreamOpenMs: round3(one.openMs)
  }
}

async function scIdentify (ctx) {
  const result = await withTimeout(ctx.identified, 10000, 'identify of the remote')
  const d = describeIdentify(result)
  const problems = []
  if (!d.publicKeyMatches) problems.push('public key missing or does not match the peer id')
  for (const p of ['/ipfs/id/1.0.0', '/ipfs/ping/1.0.0']) {
    if (!d.protocols.includes(p)) problems.push(`protocols lack ${p}`)
  }
  if (d.listenAddrs.length === 0) problems.push('no listenAddrs')
  if (d.observedAddr == null) problems.push('no observedAddr')
  if (d.agentVersion == null) problems.push('no agentVersion')
  if (d.protocolVersion == null) problems.push('no protocolVersion')
  return { ok: problems.length === 0, ...(problems.length ? { error: problems.join('; ') } : {}), ...d }
}

async function echoOnce (conn, payload) {
  const stream = await conn.newStream(ECHO)
  const reader = new Reader(stream)
  try {
    await sendAll(stream, [payload])
    await stream.close()
    const back = await reader.drain()
    return { match: back.equals(payload), sent: payload.length, received: back.length }
  } catch (err) {
    stream.abort(err)
    throw err
  }
}

async function scEcho (ctx) {
  const payload = Buffer.concat([Buffer.from('hello from js-libp2p over /echo/1.0.0\n'), randomBytes(4096)])
  const r = await echoOnce(ctx.conn, payload)
  return { ok: r.match, bytes: r.sent, received: r.received, ...(r.match ? {} : { error: 'echoed bytes differ' }) }
}

async function scEchoConcurrent (ctx) {
  const n = intOpt(ctx.opts, 'streams', 100, 1)
  const t0 = performance.now()
  const payloads = Array.from({ length: n }, () => randomBytes(randomInt(1024, 64 * 1024 + 1)))
  const results = await Promise.allSettled(payloads.map((p) => echoOnce(ctx.conn, p)))
  const failures = []
  let mismatches = 0
  results.forEach((r, i) => {
    if (r.status === 'rejected') failures.push(`stream ${i}: ${errText(r.reason)}`)
    else if (!r.value.match) mismatches++
  })
  const ok = failures.length === 0 && mismatches === 0
  return {
    ok,
    streams: n,
    bytes: payloads.reduce((a, p) => a + p.length, 0),
    mismatches,
    failures: failures.length,
    elapsedMs: round3(performance.now() - t0),
    ...(ok ? {} : { error: failures.slice(0, 5).join('; ') || `${mismatches} streams echoed different bytes` })
  }
}

async function scTransfer (ctx) {
  const total = sizeOpt(ctx.opts, 'bytes', 64 * MiB)
  const sentHash = createHash('sha256')
  const recvHash = createHash('sha256')
  const t0 = performance.now()
  const stream = await ctx.conn.newStream(ECHO)
  const reader = new Reader(stream, (b) => recvHash.update(b))
  try {
    const hashed = function * () {
      for (const chunk of keystream(total)) { sentHash.update(chunk); yield chunk }
    }
    await sendAll(stream, hashed())
    await stream.close()
    await reader.drain()
  } catch (err) {
    stream.abort(err)
    throw err
  }
  const secs = (performance.now() - t0) / 1000
  const sha256Sent = sentHash.digest('hex')
  const sha256Received = recvHash.digest('hex')
  const ok = sha256Sent === sha256Received && reader.total === total
  return {
    ok,
    bytes: total,
    received: reader.total,
    sha256Sent,
    sha256Received,
    seconds: round3(secs),
    MBps: round3(2 * total / 1e6 / secs), // bytes moved in both directions per second
    recvWindow: stream.recvWindow ?? null,
    ...(ok ? {} : { error: 'received data differs from sent data' })
  }
}

async function scReset (ctx) {
  // Case 1: we reset an /echo/1.0.0 stream after writing (and seeing the echo start).
  const stream = await ctx.conn.newStream(ECHO)
  const reader = new Reader(stream)
  stream.send(randomBytes(1024))
  await withTimeout(reader.read(1), 5000, 'first echoed byte')
  stream.abort(new Error('interop test: local reset'))
  const local = { status: stream.status }

  // Case 2: the remote resets /reset/1.0.0 right after negotiation.
  const remote = { observed: false }
  let rstream
  try {
    rstream = await ctx.conn.newStream(RESET)
  } catch (err) {
    remote.observed = err.name === 'StreamResetError'
    remote.at = 'negotiation'
    remote.error = errText(err)
  }
  if (rstream != null) {
    remote.at = 'after-negotiation'
    const seen = new Promise((resolve) => {
      if (rstream.status === 'reset') return resolve(rstream.status)
      rstream.addEventListener('close', (evt) => resolve(evt.error?.name ?? `closed without error (${rstream.status})`))
    })
    const what = await withTimeout(seen, 5000, 'remote reset')
    remote.observed = what === 'reset' || what === 'StreamResetError'
    remote.error = what
    remote.status = rstream.status
  }

  // The connection must survive both resets.
  const after = await echoOnce(ctx.conn, randomBytes(100))
  const ok = local.status === 'aborted' && remote.observed && after.match
  return {
    ok,
    localReset: local,
    remoteReset: remote,
    connectionUsableAfter: after.match,
    ...(ok ? {} : { error: 'reset not handled as expected' })
  }
}

async function scHold (ctx) {
  const seconds = intOpt(ctx.opts, 'seconds', 15, 1)
  const conn = ctx.conn
  // Count the js connection monitor's pings on this connection (it opens one ping stream per
  // interval via conn.newStream).
  let monitorPings = 0
  const original = conn.newStream
  conn.newStream = (protocols, options) => {
    if (protocols === PING || (Array.isArray(protocols) && protocols.includes(PING))) monitorPings++
    return original(protocols, options)
  }
  let closedAt = null
  const onClose = (evt) => {
    if (evt.detail === conn && closedAt == null) closedAt = performance.now()
  }
  ctx.node.addEventListener('connection:close', onClose)
  const t0 = performance.now()
  await sleep(seconds * 1000)
  ctx.node.removeEventListener('connection:close', onClose)
  conn.newStream = original
  const stayedOpen = closedAt == null && conn.status === 'open'
  let finalPing = null
  if (stayedOpen) {
    finalPing = (await pingOnStream(conn, 1)).rtts.map(round3)[0]
  }
  const pingInterval = intOpt(ctx.opts, 'ping-interval', 10000, 1)
  const expectedPings = Math.floor(seconds * 1000 / pingInterval)
  const ok = stayedOpen && finalPing != null && monitorPings >= expectedPings
  return {
    ok,
    seconds,
    stayedOpen,
    status: conn.status,
    closedAfterMs: closedAt == null ? null : round3(closedAt - t0),
    monitorPings,
    monitorRttMs: conn.rtt ?? null,
    finalPingMs: finalPing,
    ...(ok ? {} : { error: stayedOpen ? `only ${monitorPings} monitor pings, expected ${expectedPings}` : 'connection closed during hold' })
  }
}

async function scBenchConnect (ctx) {
  const n = intOpt(ctx.opts, 'connections', 200, 1)
  const total = []
  const dialOnly = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    const conn = await ctx.node.dial(ctx.target, { force: true })
    const t1 = performance.now()
    const stream = await conn.newStream(PING)
    const reader = new Reader(stream)
    const payload = randomBytes(32)
    stream.send(payload)
    const echo = await reader.read(32)
    const t2 = performance.now()
    if (!echo.equals(payload)) throw new Error(`connection ${i}: ping reply does not match`)
    total.push(t2 - t0)
    dialOnly.push(t1 - t0)
    stream.abort(new Error('benchmark done'))
    await conn.close()
  }
  return { ok: true, connections: n, ...stats(total), dialOnlyMedianMs: stats(dialOnly).medianMs }
}

async function scBenchThroughput (ctx) {
  const total = sizeOpt(ctx.opts, 'bytes', 1024 * MiB)
  const k = intOpt(ctx.opts, 'streams', 1, 1)
  const block = randomBytes(MiB)
  const share = (i) => Math.floor(total / k) + (i === 0 ? total % k : 0)
  const t0 = performance.now()
  const one = async (i) => {
    const bytes = share(i)
    const stream = await ctx.conn.newStream(SINK)
    const reader = new Reader(stream)
    try {
      const blocks = function * () {
        for (let left = bytes; left > 0; left -= MiB) yield left >= MiB ? block : block.subarray(0, left)
      }
      await sendAll(stream, blocks())
      await stream.close()
      const reply = await reader.read(8)
      const counted = reply.readBigUInt64BE()
      if (counted !== BigInt(bytes)) throw new Error(`stream ${i}: remote counted ${counted} of ${bytes} bytes`)
    } catch (err) {
      stream.abort(err)
      throw err
    }
  }
  await Promise.all(Array.from({ length: k }, (_, i) => one(i)))
  const secs = (performance.now() - t0) / 1000
  return {
    ok: true,
    bytes: total,
    streams: k,
    seconds: round3(secs),
    MBps: round3(total / 1e6 / secs),
    MiBps: round3(total / MiB / secs)
  }
}

const SCENARIO_FNS = {
  ping: scPing,
  identify: scIdentify,
  echo: scEcho,
  'echo-concurrent': scEchoConcurrent,
  transfer: scTransfer,
  reset: scReset,
  hold: scHold,
  'bench-connect': scBenchConnect,
  'bench-throughput': scBenchThroughput
}

export const SCENARIOS = Object.keys(SCENARIO_FNS)

// ---------------------------------------------------------------------------------------------
// The dial command

export async function runDial (opts) {
  setDiagPrefix('peer dial')
  if (opts.positional.length !== 2) throw new UsageError('dial needs exactly one multiaddr')
  if (opts.scenarios.length === 0) throw new UsageError('dial needs at least one --scenario')
  let target
  try { target = multiaddr(opts.positional[1]) } catch (err) { throw new UsageError(`bad multiaddr: ${errText(err)}`) }
  const timeout = intOpt(opts, 'timeout', 120000, 1)
  const privateKey = await loadKey(opts.seed)
  const node = await makeNode(privateKey, [], opts)
  registerHandlers(node, opts, false)

  // Identify runs by itself on every new connection; keep the first result per connection.
  const identifyWaiters = new Map()
  const identified = (connId) => {
    if (!identifyWaiters.has(connId)) identifyWaiters.set(connId, Promise.withResolvers())
    return identifyWaiters.get(connId)
  }
  node.addEventListener('peer:identify', (evt) => identified(evt.detail.connection.id).resolve(evt.detail))

  let allOk = true
  let conn
  try {
    conn = await withTimeout(node.dial(target), 15000, 'dial')
  } catch (err) {
    diag('dial failed:', errText(err))
    for (const s of opts.scenarios) out({ scenario: s, ok: false, error: `dial failed: ${errText(err)}` })
    await node.stop().catch(() => {})
    process.exit(1)
  }
  out({ event: 'connected', peerId: node.peerId.toString(), ...describeConnection(conn) })

  const ctx = { node, conn, target, opts, identified: identified(conn.id).promise }
  for (const name of opts.scenarios) {
    let result
    const t0 = performance.now()
    try {
      let limit = timeout
      if (name === 'hold') limit += intOpt(opts, 'seconds', 15, 1) * 1000
      result = await withTimeout(SCENARIO_FNS[name](ctx), limit, `scenario ${name}`)
    } catch (err) {
      result = { ok: false, error: errText(err) }
    }
    diag(`scenario ${name}: ${result.ok ? 'ok' : 'FAILED'} in ${round3(performance.now() - t0)} ms`)
    if (!result.ok) allOk = false
    out({ scenario: name, ...result })
  }
  const hard = setTimeout(() => process.exit(allOk ? 0 : 1), 3000)
  hard.unref()
  await node.stop().catch((err) => diag('stop failed:', errText(err)))
  process.exit(allOk ? 0 : 1)
}
