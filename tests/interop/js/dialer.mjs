#!/usr/bin/env node
// A js-libp2p peer that dials a target through a circuit relay v2
// (`<relay-addr>/p2p/<R>/p2p-circuit/p2p/<T>`, circuitRelayTransport), then pings it, reads its
// identify and optionally echoes bytes on /echo/1.0.0. stdout lines, in this order:
//   CONNECTED <target-id> <remote-addr> limited|unlimited
//   IDENTIFY <agent> <protocol> [<protocol>...]   agent with '%' -> %25 and whitespace -> %20
//   LISTEN <multiaddr>...                          the target's identify listenAddrs
//   PING <ms>                                     --count times (ms with 3 decimals)
//   ECHO <bytes>                                  with --echo N, after N bytes came back intact
//   DONE
// or, on failure, one of these and a non-zero exit:
//   DIAL-FAILED <message>         exit 4 (the relay refused: "... failed to connect via relay
//                                 with status NO_RESERVATION"; the target refused: a Noise or
//                                 stream error)
//   PING-FAILED <message> / IDENTIFY-FAILED <message> / ECHO-FAILED <message>   exit 5
import process from 'node:process'
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import {
  baseOptions, diag, ECHO, errText, intOpt, limitWord, line, loadKey, parseArgs, runMain,
  setDiagPrefix, sleep, tcpTransport, UsageError, withTimeout
} from './relay-common.mjs'

const PING = '/ipfs/ping/1.0.0'

const USAGE = `usage: dialer.mjs <relay-addr>/p2p/<R>/p2p-circuit/p2p/<T> [--seed HEX32] [--count 3]
                  [--interval 200] [--echo BYTES] [--timeout 15000]
  --count N      pings (default 3)          --interval MS  between pings (default 200)
  --echo BYTES   also send BYTES random bytes on /echo/1.0.0 and check they come back
  --timeout MS   per step: dial, identify, each ping, echo (default 15000)
exit status: 0 ok, 4 dial failed, 5 a later step failed, 2 usage`

const escapeAgent = (s) => s.replace(/%/g, '%25').replace(/\s/g, '%20')

// One promise per connection id, resolved by that connection's first identify result; installed
// before the dial because identify starts as soon as the connection opens.
function identifyWaiters (node) {
  const waiters = new Map()
  const of = (connId) => {
    if (!waiters.has(connId)) waiters.set(connId, Promise.withResolvers())
    return waiters.get(connId)
  }
  node.addEventListener('peer:identify', (evt) => of(evt.detail.connection.id).resolve(evt.detail))
  return (conn) => of(conn.id).promise
}

// Sends `bytes` random bytes, half-closes, reads to EOF, compares.
async function echo (conn, bytes, timeoutMs) {
  const stream = await conn.newStream(ECHO, { runOnLimitedConnection: true, signal: AbortSignal.timeout(timeoutMs) })
  const sent = randomBytes(bytes)
  const got = []
  const done = new Promise((resolve, reject) => {
    stream.addEventListener('message', (evt) => {
      got.push(Buffer.from(evt.data instanceof Uint8Array ? evt.data : evt.data.subarray()))
    })
    // yamux 8.0.1 signals a Data+FIN frame's end before its payload: defer to a microtask.
    stream.addEventListener('end', () => queueMicrotask(resolve), { once: true })
    stream.addEventListener('close', (evt) => {
      if (evt.error != null) reject(evt.error)
      else queueMicrotask(resolve)
    }, { once: true })
  })
  for (let off = 0; off < bytes; off += 16384) stream.send(sent.subarray(off, off + 16384))
  await stream.close()
  await withTimeout(done, timeoutMs, 'echo')
  const back = Buffer.concat(got)
  if (!back.equals(sent)) throw new Error(`echo returned ${back.length} bytes, not the ${bytes} sent`)
}

// One /ipfs/ping/1.0.0 round trip on this very connection (js's ping service would open a new
// relayed connection for every ping when the connection is limited). Returns the RTT in ms.
async function pingOnce (conn, timeoutMs) {
  const signal = AbortSignal.timeout(timeoutMs)
  const stream = await conn.newStream(PING, { runOnLimitedConnection: true, signal })
  const sent = randomBytes(32)
  const got = []
  let len = 0
  const back = new Promise((resolve, reject) => {
    stream.addEventListener('message', (evt) => {
      const b = Buffer.from(evt.data instanceof Uint8Array ? evt.data : evt.data.subarray())
      got.push(b)
      len += b.length
      if (len >= 32) resolve(performance.now())
    })
    stream.addEventListener('close', (evt) => reject(evt.error ?? new Error(`ping stream closed after ${len} of 32 bytes`)), { once: true })
  })
  const start = performance.now()
  stream.send(sent)
  const end = await withTimeout(back, timeoutMs, 'ping')
  if (!Buffer.concat(got).subarray(0, 32).equals(sent)) throw new Error('ping reply differs from the 32 bytes sent')
  await stream.close({ signal }).catch((err) => stream.abort(err))
  return end - start
}

async function step (label, exitCode, fn) {
  try {
    return await fn()
  } catch (err) {
    line(label, errText(err))
    diag(`${label}:`, errText(err))
    process.exit(exitCode)
  }
}

async function main (argv) {
  setDiagPrefix('dialer')
  const opts = parseArgs(argv, { value: ['seed', 'count', 'interval', 'echo', 'timeout'] })
  if (opts.help) { process.stdout.write(USAGE + '\n'); return }
  if (opts.positional.length !== 1) throw new UsageError('need exactly one circuit multiaddr')
  const m = /\/p2p\/([^/]+)\/p2p-circuit\/p2p\/([^/]+)$/.exec(opts.positional[0])
  if (m == null) throw new UsageError('the address must end in /p2p/<relay>/p2p-circuit/p2p/<target>')
  const target = peerIdFromString(m[2])
  const count = intOpt(opts, 'count', 3, 0)
  const interval = intOpt(opts, 'interval', 200, 0)
  const echoBytes = intOpt(opts, 'echo', 0, 0)
  const timeoutMs = intOpt(opts, 'timeout', 15000, 1)
  const base = baseOptions(await loadKey(opts.seed))
  const node = await createLibp2p({ ...base, addresses: { listen: [] }, transports: [tcpTransport(), circuitRelayTransport()] })
  process.on('SIGTERM', () => process.exit(143))
  process.on('SIGINT', () => process.exit(130))
  diag(`dialer ${node.peerId} dialing ${opts.positional[0]}`)

  const identified = identifyWaiters(node)
  const conn = await step('DIAL-FAILED', 4, async () => {
    const c = await node.dial(multiaddr(opts.positional[0]), { signal: AbortSignal.timeout(timeoutMs) })
    if (!c.remotePeer.equals(target)) throw new Error(`reached ${c.remotePeer}, not ${target}`)
    return c
  })
  line('CONNECTED', conn.remotePeer.toString(), conn.remoteAddr.toString(), limitWord(conn))

  const id = await step('IDENTIFY-FAILED', 5, async () => {
    // The automatic identify of the new connection (js opens one identify stream per connection).
    return withTimeout(identified(conn), timeoutMs, 'identify of the target')
  })
  line('IDENTIFY', escapeAgent(id.agentVersion ?? 'unknown'), ...(id.protocols ?? []))
  line('LISTEN', ...(id.listenAddrs ?? []).map((a) => a.toString()))

  for (let i = 0; i < count; i++) {
    if (i > 0) await sleep(interval)
    const ms = await step('PING-FAILED', 5, () => pingOnce(conn, timeoutMs))
    line('PING', ms.toFixed(3))
  }
  if (echoBytes > 0) {
    await step('ECHO-FAILED', 5, () => echo(conn, echoBytes, timeoutMs))
    line('ECHO', String(echoBytes))
  }
  line('DONE')
  const hard = setTimeout(() => process.exit(0), 3000)
  hard.unref()
  await node.stop().catch((err) => diag('stop failed:', errText(err)))
  process.exit(0)
}

process.on('unhandledRejection', (err) => diag('unhandled rejection:', errText(err)))
runMain(main, USAGE)
