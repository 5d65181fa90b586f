#!/usr/bin/env node
// js-libp2p interop peer for Peer Compute: a listener that serves the custom test protocols and
// reports what it sees, and a dialer that runs named scenarios against any libp2p peer.
// stdout carries JSON lines only (one object per line); diagnostics go to stderr.
// See README.md in this directory for the CLI, the JSON vocabulary and the protocol definitions.
// This file is the command line; the rest is in peer-listen.mjs, peer-scenarios.mjs (dial),
// peer-node.mjs (the node and the test protocols), peer-streams.mjs and common.mjs.
import './polyfill.mjs'
import process from 'node:process'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { diag, errText, loadKey, out, setDiagPrefix, UsageError } from './common.mjs'
import { runListen } from './peer-listen.mjs'
import { runDial, SCENARIOS } from './peer-scenarios.mjs'

setDiagPrefix('peer')

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

const VALUE_FLAGS = new Set(['seed', 'host', 'port', 'scenario', 'count', 'seconds', 'connections',
  'bytes', 'streams', 'timeout', 'ping-interval', 'max-streams'])
const BOOL_FLAGS = new Set(['no-noise-muxers', 'ignore-stdin', 'help'])

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
      await runListen(opts, () => { listening = true })
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
