#!/usr/bin/env node
// js-libp2p interop peer for Peer Compute: a listener that serves the custom test protocols and
// reports what it sees, and a dialer that runs named scenarios against any libp2p peer.
// stdout carries JSON lines only (one object per line); diagnostics go to stderr.
// See README.md in this directory for the CLI, the JSON vocabulary and the protocol definitions.
import './polyfill.mjs'
import { createCipheriv, createHash, randomBytes, randomInt } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import process from 'node:process'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair, generateKeyPairFromSeed, publicKeyFromProtobuf } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { peerIdFromPrivateKey, peerIdFromPublicKey } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'

const ECHO = '/echo/1.0.0'
const SINK = '/sink/1.0.0'
const RESET = '/reset/1.0.0'
const PING = '/ipfs/ping/1.0.0'
const MiB = 1024 * 1024

const USAGE = `usage:
  peer.mjs id     [--seed HEX32]
  peer.mjs listen [--seed HEX32] [--host 127.0.0.1] [--port N] [common options]
  peer.mjs dial <multiaddr> --scenario NAME[,NAME...] [--scenario NAME ...] [--seed HEX32]
                [--count N] [--seconds N] [--connections N] [--bytes N[K|M|G]] [--streams K]
                [--timeout MS] [common options]
common options: --ping-interval MS (js connection monitor, default 10000)
                --max-streams N (yamux and per-protocol stream limits, default 1024)
                --no-noise-muxers (neither offer nor honour Noise early muxer negotiation)
                --ignore-stdin (listen: do not exit when stdin closes)
scenarios: ping identify echo echo-concurrent transfer reset hold bench-connect bench-throughput`

const SCENARIOS = ['ping', 'identify', 'echo', 'echo-concurrent', 'transfer', 'reset', 'hold',
  'bench-connect', 'bench-throughput']
const VALUE_FLAGS = new Set(['seed', 'host', 'port', 'scenario', 'count', 'seconds', 'connections',
  'bytes', 'streams', 'timeout', 'ping-interval', 'max-streams'])
const BOOL_FLAGS = new Set(['no-noise-muxers', 'ignore-stdin', 'help'])

class UsageError extends Error {}

function out (obj) {
  // process.stdout is synchronous for files and pipes on Linux, so each line is flushed here.
  process.stdout.write(JSON.stringify(obj) + '\n')
}

let diagPrefix = 'peer'
function diag (...parts) {
  process.stderr.write(`[${diagPrefix} ${new Date().toISOString()}] ${parts.join(' ')}\n`)
}

function errText (err) {
  if (err == null) return 'unknown error'
  const name = err.name ?? 'Error'
  return err.message ? `${name}: ${err.message}` : String(name)
}

// ---------------------------------------------------------------------------------------------
// Command line

function parseArgs (argv) {
  const opts = { positional: [], scenarios: [] }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (!arg.startsWith('--')) {
      opts.positional.push(arg)
      continue
    }
    let name = arg.slice(2)
    let value
    const eq = name.indexOf('=')
    if (eq >= 0) {
      value = name.slice(eq + 1)
      name = name.slice(0, eq)
    }
    if (BOOL_FLAGS.has(name)) {
      if (value !== undefined) throw new UsageError(`--${name} takes no value`)
      opts[name] = true
      continue
    }
    if (!VALUE_FLAGS.has(name)) throw new UsageError(`unknown option --${name}`)
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`)
      value = argv[++i]
    }
    if (name === 'scenario') {
      for (const s of value.split(',').filter(Boolean)) {
        if (!SCENARIOS.includes(s)) throw new UsageError(`unknown scenario ${s}`)
        opts.scenarios.push(s)
      }
    } else {
      opts[name] = value
    }
  }
  return opts
}

function intOpt (opts, name, dflt, min = 0) {
  if (opts[name] === undefined) return dflt
  const v = Number(opts[name])
  if (!Number.isSafeInteger(v) || v < min) throw new UsageError(`--${name} must be an integer >= ${min}`)
  return v
}

function sizeOpt (opts, name, dflt) {
  if (opts[name] === undefined) return dflt
  const m = /^(\d+)([KMG]?)(i?B)?$/i.exec(opts[name])
  if (m == null) throw new UsageError(`--${name}: bad size ${opts[name]}`)
  const mult = { '': 1, K: 1024, M: MiB, G: 1024 * MiB }[m[2].toUpperCase()]
  const v = Number(m[1]) * mult
  if (!Number.isSafeInteger(v) || v <= 0) throw new UsageError(`--${name}: bad size ${opts[name]}`)
  return v
}

async function loadKey (seedHex) {
  if (seedHex === undefined) return generateKeyPair('Ed25519')
  if (!/^[0-9a-fA-F]{64}$/.test(seedHex)) throw new UsageError('--seed must be 64 hex digits (32 bytes)')
  return generateKeyPairFromSeed('Ed25519', Uint8Array.from(Buffer.from(seedHex, 'hex')))
}

// ---------------------------------------------------------------------------------------------
// Node construction

// Remembers, per remote peer, what the remote put in the Noise handshake extensions.
const noiseSeen = new Map()

// With early = false the remote's stream_muxers list is also ignored (js honours it by default
// even when it offers none itself), so the muxer is always chosen by multistream-select.
function observedNoise (init, early) {
  const factory = noise(init)
  return (components) => {
    const enc = factory(components)
    for (const method of ['secureInbound', 'secureOutbound']) {
      const original = enc[method].bind(enc)
      enc[method] = async (connection, options) => {
        let result = await original(connection, options)
        if (!early) result = { ...result, streamMuxer: undefined }
        noiseSeen.set(result.remotePeer.toString(), {
          remoteStreamMuxers: result.remoteExtensions?.streamMuxers ?? [],
          earlyMuxer: result.streamMuxer?.protocol ?? null
        })
        return result
      }
    }
    return enc
  }
}

async function makeNode (privateKey, listen, opts) {
  const maxStreams = intOpt(opts, 'max-streams', 1024, 1)
  const noiseInit = opts['no-noise-muxers'] ? { extensions: { streamMuxers: [] } } : {}
  return createLibp2p({
    privateKey,
    addresses: { listen },
    transports: [tcp()],
    connectionEncrypters: [observedNoise(noiseInit, !opts['no-noise-muxers'])],
    streamMuxers: [yamux({
      maxInboundStreams: maxStreams,
      maxOutboundStreams: maxStreams,
      // A paused stream buffers up to its receive window (<= 16 MiB); js's default 4 MiB read
      // buffer limit would reset it, so allow a full maximum window.
      streamOptions: { maxReadBufferLength: 16 * MiB + 64 * 1024 }
    })],
    services: {
      identify: identify(),
      // js default: 1 outbound ping stream per connection; the monitor may hold it when a
      // scenario pings, so allow 2 (the remote js listener accepts 2 inbound).
      ping: ping({ maxOutboundStreams: 2 })
    },
    connectionManager: {
      // Loopback peers bypass js's inbound rate limit (5 connections/s/host by default), which
      // would otherwise refuse bench-connect's sequential connections.
      allow: ['/ip4/127.0.0.0/ipcidr/8', '/ip6/::1/ipcidr/128'],
      maxConnections: 10000,
      maxIncomingPendingConnections: 1000
    },
    connectionMonitor: { pingInterval: intOpt(opts, 'ping-interval', 10000, 1) }
  })
}

// ---------------------------------------------------------------------------------------------
// Stream helpers (event based: js's async iterator drops the payload of a Data frame that also
// carries FIN, so every reader here listens for 'message' instead)

function eachBuf (data, fn) {
  if (data instanceof Uint8Array) fn(data)
  else for (const b of data) fn(b)
}

function waitDrain (stream) {
  // stream.onDrain() is not usable: it caches one promise that stays resolved after the first
  // drain, so later calls return at once and backpressure is lost.
  return new Promise((resolve, reject) => {
    const onDrain = () => { cleanup(); resolve() }
    const onClose = (evt) => { cleanup(); reject(evt.error ?? new Error('stream closed while waiting for drain')) }
    const cleanup = () => {
      stream.removeEventListener('drain', onDrain)
      stream.removeEventListener('close', onClose)
    }
    stream.addEventListener('drain', onDrain)
    stream.addEventListener('close', onClose)
  })
}

async function sendAll (stream, bufs) {
  for (const buf of bufs) {
    if (!stream.send(buf)) await waitDrain(stream)
  }
}

// Buffers everything the remote sends; read(n) waits for n bytes, drain() until the remote's EOF.
class Reader {
  constructor (stream, onChunk) {
    this.bufs = []
    this.len = 0
    this.total = 0
    this.ended = stream.readableEnded
    this.error = null
    this.wakeup = null
    this.onChunk = onChunk
    stream.addEventListener('message', (evt) => {
      eachBuf(evt.data, (b) => {
        this.total += b.byteLength
        if (this.onChunk != null) this.onChunk(b)
        else { this.bufs.push(b); this.len += b.byteLength }
      })
      this.wake()
    })
    stream.addEventListener('end', () => { this.ended = true; this.wake() })
    stream.addEventListener('close', (evt) => {
      if (evt.error != null) this.error = evt.error
      this.ended = true
      this.wake()
    })
  }

  wake () {
    const w = this.wakeup
    this.wakeup = null
    if (w != null) w()
  }

  async wait () {
    await new Promise((resolve) => { this.wakeup = resolve })
  }

  async read (n) {
    while (this.len < n) {
      if (this.error != null) throw this.error
      if (this.ended) throw new Error(`stream ended after ${this.len} of ${n} bytes`)
      await this.wait()
    }
    const all = Buffer.concat(this.bufs, this.len)
    const head = all.subarray(0, n)
    this.bufs = all.length > n ? [all.subarray(n)] : []
    this.len -= n
    return head
  }

  async drain () {
    while (!this.ended) await this.wait()
    if (this.error != null) throw this.error
    const all = Buffer.concat(this.bufs, this.len)
    this.bufs = []
    this.len = 0
    return all
  }
}

function withTimeout (promise, ms, what) {
  let timer
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Deterministic pseudo-random bytes: the ChaCha20 keystream (RFC 8439 block function) for
// key = 00 01 .. 1f and a zero counter+nonce, yielded in chunks of `chunk` bytes.
function * keystream (total, chunk = MiB) {
  const cipher = createCipheriv('chacha20', Buffer.from([...Array(32).keys()]), Buffer.alloc(16))
  const zeros = Buffer.alloc(chunk)
  for (let left = total; left > 0; left -= chunk) {
    const n = Math.min(chunk, left)
    yield cipher.update(n === chunk ? zeros : zeros.subarray(0, n))
  }
}

function stats (samples) {
  const s = [...samples].sort((a, b) => a - b)
  const q = (p) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]
  const r = (v) => Math.round(v * 1000) / 1000
  return {
    n: s.length,
    medianMs: r(s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2),
    p90Ms: r(q(0.9)),
    minMs: r(s[0]),
    maxMs: r(s[s.length - 1]),
    meanMs: r(s.reduce((a, b) => a + b, 0) / s.length)
  }
}

// ---------------------------------------------------------------------------------------------
// Protocol handlers (served in both modes)

// yamux 8.0.1 handles a frame's FIN flag before its payload: 'end' fires, then the same frame's
// data is delivered. Deferring the end-of-input action to a microtask lets that data arrive first,
// so a remote that sends FIN on its last Data frame is served correctly.
function afterFrame (fn) {
  return () => queueMicrotask(fn)
}

function registerHandlers (node, opts, emitEvents) {
  const maxStreams = intOpt(opts, 'max-streams', 1024, 1)
  const handlerOpts = { maxInboundStreams: maxStreams, maxOutboundStreams: maxStreams }

  const watch = (stream, connection) => {
    if (!emitEvents) return
    stream.addEventListener('close', (evt) => {
      if (evt.error != null && evt.local !== true) {
        out({ event: 'reset', protocol: stream.protocol, peer: connection.remotePeer.toString(), error: evt.error.name })
      }
    })
  }

  // /echo/1.0.0: write back every byte; when the remote closes its write side and everything
  // was written back, close ours. Reading pauses (no yamux window updates) while the send side
  // waits for the remote to consume.
  node.handle(ECHO, (stream, connection) => {
    watch(stream, connection)
    stream.addEventListener('message', (evt) => {
      try {
        if (!stream.send(evt.data)) {
          if (stream.readStatus === 'readable') stream.pause()
          waitDrain(stream).then(() => {
            if (stream.readStatus === 'paused') stream.resume()
          }, () => {})
        }
      } catch (err) {
        stream.abort(err)
      }
    })
    const finish = () => { stream.close().catch((err) => stream.abort(err)) }
    if (stream.readableEnded) finish()
    else stream.addEventListener('end', afterFrame(finish), { once: true })
  }, handlerOpts)

  // /sink/1.0.0: count bytes to EOF, then write the count as 8 bytes big-endian and close.
  node.handle(SINK, (stream, connection) => {
    watch(stream, connection)
    let count = 0n
    stream.addEventListener('message', (evt) => { count += BigInt(evt.data.byteLength) })
    const finish = () => {
      const reply = Buffer.alloc(8)
      reply.writeBigUInt64BE(count)
      try {
        stream.send(reply)
        stream.close().catch((err) => stream.abort(err))
      } catch (err) {
        stream.abort(err)
      }
    }
    if (stream.readableEnded) finish()
    else stream.addEventListener('end', afterFrame(finish), { once: true })
  }, handlerOpts)

  // /reset/1.0.0: reset right after protocol negotiation.
  node.handle(RESET, (stream) => {
    stream.abort(new Error('/reset/1.0.0 resets every stream'))
  }, handlerOpts)
}

function describeConnection (conn) {
  const peer = conn.remotePeer.toString()
  const seen = noiseSeen.get(peer)
  return {
    peer,
    direction: conn.direction,
    remoteAddr: conn.remoteAddr.toString(),
    encryption: conn.encryption ?? null,
    muxer: conn.multiplexer ?? null,
    noiseRemoteStreamMuxers: seen?.remoteStreamMuxers ?? null,
    earlyMuxerNegotiation: seen == null ? null : seen.earlyMuxer != null
  }
}

function describeIdentify (result) {
  let publicKeyMatches = false
  try {
    if (result.publicKey != null) {
      publicKeyMatches = peerIdFromPublicKey(publicKeyFromProtobuf(result.publicKey)).equals(result.peerId)
    }
  } catch {}
  return {
    peer: result.peerId.toString(),
    protocols: result.protocols,
    agentVersion: result.agentVersion ?? null,
    protocolVersion: result.protocolVersion ?? null,
    listenAddrs: result.listenAddrs.map((a) => a.toString()),
    observedAddr: result.observedAddr?.toString() ?? null,
    publicKeyMatches,
    signedPeerRecord: result.signedPeerRecord == null
      ? null
      : { seq: result.signedPeerRecord.seq.toString(), addrs: result.signedPeerRecord.addresses.map((a) => a.toString()) }
  }
}

// ---------------------------------------------------------------------------------------------
// listen

async function runListen (opts) {
  diagPrefix = 'peer listen'
  const host = opts.host ?? '127.0.0.1'
  const port = intOpt(opts, 'port', 0)
  const privateKey = await loadKey(opts.seed)
  const family = host.includes(':') ? 'ip6' : 'ip4'
  const node = await makeNode(privateKey, [`/${family}/${host}/tcp/${port}`], opts)

  node.addEventListener('connection:open', (evt) => {
    out({ event: 'connection', ...describeConnection(evt.detail) })
  })
  node.addEventListener('connection:close', (evt) => {
    const conn = evt.detail
    out({ event: 'disconnect', peer: conn.remotePeer.toString(), remoteAddr: conn.remoteAddr.toString() })
  })
  node.addEventListener('peer:identify', (evt) => {
    out({ event: 'identify', ...describeIdentify(evt.detail) })
  })
  registerHandlers(node, opts, true)

  listening = true
  out({ event: 'listening', peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map((a) => a.toString()) })
  diag(`listening as ${node.peerId} on ${node.getMultiaddrs().join(' ')}`)

  let stopping = false
  const stop = async (why) => {
    if (stopping) return
    stopping = true
    diag(`stopping (${why})`)
    const hard = setTimeout(() => process.exit(0), 3000)
    hard.unref()
    try { await node.stop() } catch (err) { diag('stop failed:', errText(err)) }
    process.exit(0)
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  if (!opts['ignore-stdin']) {
    process.stdin.on('end', () => stop('stdin closed'))
    process.stdin.on('error', () => stop('stdin error'))
    process.stdin.resume()
  }
}

// ---------------------------------------------------------------------------------------------
// dial scenarios

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

const round3 = (v) => Math.round(v * 1000) / 1000

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

async function runDial (opts) {
  diagPrefix = 'peer dial'
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

async function runId (opts) {
  const key = await loadKey(opts.seed)
  out({ peerId: peerIdFromPrivateKey(key).toString() })
}

// ---------------------------------------------------------------------------------------------

async function main () {
  let opts
  try {
    opts = parseArgs(process.argv.slice(2))
    if (opts.help) { process.stderr.write(USAGE + '\n'); return }
    const mode = opts.positional[0]
    if (mode === 'listen') {
      if (opts.positional.length !== 1) throw new UsageError('listen takes no positional arguments')
      await runListen(opts)
    } else if (mode === 'dial') {
      await runDial(opts)
    } else if (mode === 'id') {
      await runId(opts)
    } else {
      throw new UsageError(mode === undefined ? 'missing mode' : `unknown mode ${mode}`)
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`peer.mjs: ${err.message}\n${USAGE}\n`)
      process.exit(2)
    }
    diag('fatal:', err?.stack ?? errText(err))
    process.exit(1)
  }
}

// A test peer should say what went wrong rather than vanish: log stray errors and keep running.
let listening = false
for (const kind of ['unhandledRejection', 'uncaughtException']) {
  process.on(kind, (err) => {
    diag(`${kind}:`, err?.stack ?? errText(err))
    if (listening) out({ event: 'error', kind, error: errText(err) })
  })
}
main()
