#!/usr/bin/env node
// A js-libp2p circuit relay v2 server (@libp2p/circuit-relay-v2 circuitRelayServer) for the relay
// interop tests. Prints `READY <peer-id> <multiaddr>/p2p/<peer-id>` once listening, then one line
// per hop request it sees:
//   RESERVE <peer-id> allowed|denied      a RESERVE reached the ACL (denied -> PERMISSION_DENIED)
//   CIRCUIT <source-id> <target-id>       a CONNECT reached the ACL (always allowed)
// Runs until SIGTERM/SIGINT, then exits 0.
import process from 'node:process'
import { circuitRelayServer } from '@libp2p/circuit-relay-v2'
import { createLibp2p } from 'libp2p'
import {
  baseOptions, diag, errText, intOpt, line, loadKey, parseArgs, runMain, setDiagPrefix,
  stopOnSignals, tcpTransport, UsageError
} from './relay-common.mjs'

const USAGE = `usage: relay.mjs [--seed HEX32] [--host 127.0.0.1] [--port 0] [--default-limit]
                 [--allow PEER-ID]... [--max-reservations 15]
  --default-limit  applyDefaultLimit: true (js's default: every circuit gets Limit
                   {duration: 120000 (ms, announced in a seconds field), data: 131072});
                   off by default, so no Limit is sent and the circuits are unlimited
  --allow ID       only these peers may reserve (others get PERMISSION_DENIED, 202);
                   without --allow anyone may`

async function main (argv) {
  setDiagPrefix('relay')
  const opts = parseArgs(argv, {
    value: ['seed', 'host', 'port', 'max-reservations'],
    multi: ['allow'],
    bool: ['default-limit']
  })
  if (opts.help) { process.stdout.write(USAGE + '\n'); return }
  if (opts.positional.length > 0) throw new UsageError(`unexpected argument ${opts.positional[0]}`)
  const host = opts.host ?? '127.0.0.1'
  const port = intOpt(opts, 'port', 0)
  const family = host.includes(':') ? 'ip6' : 'ip4'
  const allow = new Set(opts.allow)
  const base = baseOptions(await loadKey(opts.seed))

  const node = await createLibp2p({
    ...base,
    addresses: { listen: [`/${family}/${host}/tcp/${port}`] },
    transports: [tcpTransport()],
    services: {
      ...base.services,
      relay: circuitRelayServer({
        reservations: {
          applyDefaultLimit: opts['default-limit'] === true,
          maxReservations: intOpt(opts, 'max-reservations', 15, 1)
        }
      })
    },
    connectionGater: {
      denyInboundRelayReservation: (peer) => {
        const denied = allow.size > 0 && !allow.has(peer.toString())
        line('RESERVE', peer.toString(), denied ? 'denied' : 'allowed')
        return denied
      },
      denyOutboundRelayedConnection: (source, target) => {
        line('CIRCUIT', source.toString(), target.toString())
        return false
      }
    }
  })
  stopOnSignals(node)
  const addrs = node.getMultiaddrs().map((a) => a.toString())
  if (addrs.length === 0) throw new Error('no listen address')
  // getMultiaddrs() already ends in /p2p/<id>; add it if a version ever does not.
  const addr = addrs[0].includes('/p2p/') ? addrs[0] : `${addrs[0]}/p2p/${node.peerId}`
  line('READY', node.peerId.toString(), addr)
  diag(`relay ${node.peerId} on ${addrs.join(' ')} applyDefaultLimit=${opts['default-limit'] === true}`,
    allow.size > 0 ? `allow=${[...allow].join(',')}` : 'allow=any')
}

process.on('unhandledRejection', (err) => diag('unhandled rejection:', errText(err)))
runMain(main, USAGE)
