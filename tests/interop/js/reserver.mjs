#!/usr/bin/env node
// A js-libp2p peer that reserves on one relay (listens on `<relay>/p2p-circuit`, with
// circuitRelayTransport) and serves ping, identify and /echo/1.0.0 (runOnLimitedConnection) to
// whoever reaches it through the relay. stdout lines:
//   READY <peer-id> <circuit-addr> [<circuit-addr>...]    each `…/p2p/<R>/p2p-circuit/p2p/<self>`
//   RESERVE-FAILED <code> <STATUS-NAME>                   the relay refused (e.g. 202 PERMISSION_DENIED)
//   RESERVE-FAILED error <message>                        anything else (relay unreachable, timeout)
//   CONNECTION <peer-id> <remote-addr> limited|unlimited  every connection that opens
//   ECHO <peer-id> <bytes>                                an /echo/1.0.0 stream finished
// FaultTolerance.FATAL_ALL: a refused reservation fails start(); the peer then exits 3.
// Otherwise it runs until SIGTERM/SIGINT and exits 0.
import process from 'node:process'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { FaultTolerance } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import {
  baseOptions, diag, errText, handleEcho, intOpt, limitWord, line, loadKey, parseArgs, runMain,
  setDiagPrefix, sleep, stopOnSignals, tcpTransport, UsageError
} from './relay-common.mjs'

const USAGE = `usage: reserver.mjs <relay-multiaddr-with-/p2p/R> [--seed HEX32] [--tcp] [--timeout 10000]
  --tcp           also listen on /ip4/127.0.0.1/tcp/0 (off: reachable only through the relay)
  --timeout MS    how long to wait for the circuit address after start (default 10000)
exit status: 0 after SIGTERM, 3 reservation refused or failed, 1 other error, 2 usage`

// js's reservation store throws "reservation failed with status <NAME>" (the protons enum name).
const STATUS_CODES = {
  OK: 100,
  RESERVATION_REFUSED: 200,
  RESOURCE_LIMIT_EXCEEDED: 201,
  PERMISSION_DENIED: 202,
  CONNECTION_FAILED: 203,
  NO_RESERVATION: 204,
  MALFORMED_MESSAGE: 400,
  UNEXPECTED_MESSAGE: 401
}

function reserveFailure (err) {
  const m = /reservation failed with status (\w+)/.exec(err?.message ?? '')
  if (m != null) return `${STATUS_CODES[m[1]] ?? 'unknown'} ${m[1]}`
  return `error ${errText(err)}`
}

async function main (argv) {
  setDiagPrefix('reserver')
  const opts = parseArgs(argv, { value: ['seed', 'timeout'], bool: ['tcp'] })
  if (opts.help) { process.stdout.write(USAGE + '\n'); return }
  if (opts.positional.length !== 1) throw new UsageError('need exactly one relay multiaddr')
  const relay = multiaddr(opts.positional[0])
  if (!/\/p2p\/[^/]+$/.test(relay.toString())) throw new UsageError('the relay multiaddr must end in /p2p/<relay-id>')
  const timeoutMs = intOpt(opts, 'timeout', 10000, 1)
  const base = baseOptions(await loadKey(opts.seed))
  const listen = [`${relay}/p2p-circuit`]
  if (opts.tcp) listen.unshift('/ip4/127.0.0.1/tcp/0')

  let node
  try {
    node = await createLibp2p({
      ...base,
      addresses: { listen },
      transports: [tcpTransport(), circuitRelayTransport()],
      // The default, spelled out: a listen address that fails (a refused reservation) fails start().
      transportManager: { faultTolerance: FaultTolerance.FATAL_ALL }
    })
  } catch (err) {
    line('RESERVE-FAILED', reserveFailure(err))
    diag('start failed:', errText(err))
    process.exit(3)
  }
  stopOnSignals(node)
  node.addEventListener('connection:open', (evt) => {
    const c = evt.detail
    line('CONNECTION', c.remotePeer.toString(), c.remoteAddr.toString(), limitWord(c))
  })
  handleEcho(node, (stream, connection) => {
    let bytes = 0
    stream.addEventListener('message', (evt) => {
      bytes += evt.data.byteLength // a Uint8Array or a Uint8ArrayList
    })
    stream.addEventListener('close', () => line('ECHO', connection.remotePeer.toString(), String(bytes)))
  })

  // The circuit address appears once the reservation is in and the address manager took it.
  const deadline = Date.now() + timeoutMs
  let circuits = []
  while (Date.now() < deadline) {
    circuits = node.getMultiaddrs().map((a) => a.toString()).filter((a) => a.includes('/p2p-circuit'))
    if (circuits.length > 0) break
    await sleep(50)
  }
  if (circuits.length === 0) {
    line('RESERVE-FAILED', `error no /p2p-circuit address within ${timeoutMs} ms`)
    await node.stop().catch(() => {})
    process.exit(3)
  }
  line('READY', node.peerId.toString(), ...circuits)
  diag(`reserved on ${relay} as ${node.peerId}; addresses ${node.getMultiaddrs().join(' ')}`)
}

process.on('unhandledRejection', (err) => diag('unhandled rejection:', errText(err)))
runMain(main, USAGE)
