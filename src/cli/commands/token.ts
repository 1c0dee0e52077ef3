import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { peerIdentityFromCertificate } from '../../../interceptors/peer-identity.js';
import { mintDevToken } from '../../auth/dev-token.js';
import { loadConfig } from '../../config/load.js';
import { loadPolicyDocument, scopesInPolicy } from '../../config/load-policy.js';
import { processConfigSources } from '../../config/process-sources.js';
import { UsageError, type CliCommand } from '../command.js';

const DEFAULT_SUBJECT = 'spiffe://gatehouse.dev/client/alice';

const USAGE = `gatehouse token mint [--sub ID] [--scope SCOPE]... [--ttl DURATION] [--bind-cert FILE] [flags]

Signs a development bearer token with the development key (auth.devSigningKey, made
next to the development certificates on first use) for the configured issuer and
audience, and prints it. Use it with any client command:

  export GATEHOUSE_TOKEN=$(gatehouse token mint)
  gatehouse cheese list                 # or: gatehouse cheese list --token "$GATEHOUSE_TOKEN"

  --sub ID           subject; default the --bind-cert certificate's identity, else ${DEFAULT_SUBJECT}
  --scope SCOPE      a granted scope; repeat, or separate with spaces or commas
                     (default: every scope config/policy.yaml names, so the token may call everything)
  --ttl DURATION     lifetime: 90s, 30m, 12h, 7d or seconds (default 1h)
  --bind-cert FILE   bind the token to this client certificate (cnf x5t#S256, RFC 8705):
                     it is then only accepted on connections presenting that certificate
  --client-id ID     client_id claim
  --config FILE      config to read auth and policy from (default $GATEHOUSE_CONFIG, else config/default.yaml)
  --json             print {"token", "sub", "scopes", "expiresAt"} instead of the bare token

The token is a credential: it is printed, never logged. Production tokens come from your real issuer.`;

/** `gatehouse token mint`. */
export const tokenCommand: CliCommand = {
  name: 'token',
  summary: 'mint a development bearer token (token mint --sub ... --scope ... --ttl ...)',
  usage: USAGE,
  async run(argv) {
    const [action, ...rest] = argv;
    if (action !== 'mint') throw new UsageError(action ? `unknown action "${action}"; the only one is mint` : '');
    let values;
    try {
      ({ values } = parseArgs({
        args: rest,
        strict: true,
        options: {
          sub: { type: 'string' },
          scope: { type: 'string', multiple: true },
          ttl: { type: 'string', default: '1h' },
          'bind-cert': { type: 'string' },
          'client-id': { type: 'string' },
          config: { type: 'string' },
          json: { type: 'boolean', default: false },
        },
      }));
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const ttlSec = parseTtlSec(values.ttl);
    const config = loadConfig(processConfigSources(values.config));
    let bindCertificate: Buffer | undefined;
    let subject = values.sub;
    if (values['bind-cert'] !== undefined) {
      try {
        bindCertificate = readFileSync(values['bind-cert']);
        const identity = peerIdentityFromCertificate(new X509Certificate(bindCertificate).toLegacyObject());
        subject ??= identity?.identity;
      } catch (error) {
        throw new UsageError(`--bind-cert ${values['bind-cert']}: ${(error as Error).message}`);
      }
    }
    subject ??= DEFAULT_SUBJECT;
    const scopes =
      values.scope === undefined
        ? scopesInPolicy(loadPolicyDocument(config.policy))
        : values.scope.flatMap((s) => s.split(/[\s,]+/)).filter((s) => s.length > 0);
    const token = mintDevToken(config, { subject, scopes, ttlSec, bindCertificate, clientId: values['client-id'] });
    if (values.json) {
      const expiresAt = new Date(Date.now() + ttlSec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      process.stdout.write(JSON.stringify({ token, sub: subject, scopes, expiresAt, bound: bindCertificate !== undefined }) + '\n');
    } else {
      process.stdout.write(token + '\n');
      if (process.stderr.isTTY)
        process.stderr.write(
          `token for ${subject}, scopes: ${scopes.join(' ') || '(none)'}, valid ${values.ttl}${bindCertificate ? ', certificate-bound' : ''}\n`,
        );
    }
    return 0;
  },
};

/** `90s`, `30m`, `12h`, `7d` or bare seconds. */
export function parseTtlSec(text: string): number {
  const match = /^(\d+)(s|m|h|d)?$/.exec(text.trim());
  if (!match || Number(match[1]) === 0) throw new UsageError(`--ttl ${text} is not a duration; use e.g. 90s, 30m, 12h or 7d`);
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[(match[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
