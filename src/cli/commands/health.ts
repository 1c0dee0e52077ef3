import { checkHealthStatus } from '../../client/health-check.js';
import { CLIENT_FLAGS_USAGE, clientSettings, parseClientArgs } from '../client-options.js';
import { UsageError, type CliCommand } from '../command.js';
import { printCallError, printReply } from '../output.js';

const USAGE = `gatehouse health [--service NAME] [flags]

Calls grpc.health.v1.Health/Check. Exit 0 when SERVING, 1 when not.
For the plaintext health-only port: gatehouse health --target localhost:8081 --insecure

  --service NAME   e.g. cheesefarm.v1.CheeseService (default "": the whole gateway)

${CLIENT_FLAGS_USAGE}`;

/** `gatehouse health`. */
export const healthCommand: CliCommand = {
  name: 'health',
  summary: "check the gateway's health (exit 0 when SERVING)",
  usage: USAGE,
  async run(argv) {
    const { values } = parseClientArgs(argv, { service: { type: 'string', default: '' } });
    if (values.help) throw new UsageError('');
    const settings = clientSettings(values);
    try {
      const status = await checkHealthStatus(settings.target, settings.credentials, values.service, settings.timeoutMs);
      printReply({ service: values.service, status }, settings.json, (r: { status: string }) => r.status);
      return status === 'SERVING' ? 0 : 1;
    } catch (error) {
      return printCallError(error, settings.json);
    }
  },
};
