import { randomUUID } from 'node:crypto';
import { grpcCallOptions, unaryReply } from '../../client/grpc-client.js';
import type { Cheese__Output } from '../../generated/cheesefarm/v1/Cheese.js';
import type { ListOrdersResponse__Output } from '../../generated/cheesefarm/v1/ListOrdersResponse.js';
import type { OrderEvent__Output } from '../../generated/cheesefarm/v1/OrderEvent.js';
import { CHEESE_TYPES, isCheeseType, type CheeseTypeName } from '../../services/cheese/cheese-types.js';
import { CLIENT_FLAGS_USAGE, clientSettings, connect, parseClientArgs } from '../client-options.js';
import { UsageError, type CliCommand } from '../command.js';
import { printCallError, printReply } from '../output.js';

const SERVICE = 'cheesefarm.v1.CheeseService';

const USAGE = `gatehouse cheese <order|get|list|watch> [flags]

  order --type TYPE --age MONTHS [--quantity N] [--idempotency-key KEY]
        TYPE is ${CHEESE_TYPES.join(', ')}. Without
        --idempotency-key a new key is made; pass the printed key again to retry the same order safely.
  get ORDER_ID
  list [--type TYPE] [--page-size N] [--page-token TOKEN]
  watch [--type TYPE]      prints orders as they are placed, until Ctrl-C

${CLIENT_FLAGS_USAGE}`;

const describeOrder = (o: Cheese__Output) =>
  `${o.orderId}  ${o.quantity} x ${o.type}, ${o.age} months, by ${o.orderedBy} at ${new Date(Number(o.orderedAt?.seconds ?? 0) * 1000).toISOString()} (key ${o.idempotencyKey})`;

/** `gatehouse cheese ...`: the CheeseService client. */
export const cheeseCommand: CliCommand = {
  name: 'cheese',
  summary: 'order, get, list and watch cheese orders',
  usage: USAGE,
  async run(argv) {
    const [sub, ...rest] = argv;
    const { values, positionals } = parseClientArgs(rest, {
      type: { type: 'string' },
      age: { type: 'string' },
      quantity: { type: 'string' },
      'idempotency-key': { type: 'string' },
      'page-size': { type: 'string' },
      'page-token': { type: 'string' },
    });
    if (values.help || !sub) throw new UsageError(sub ? '' : 'which cheese command? order, get, list or watch');
    const settings = clientSettings(values);
    const client = connect(SERVICE, settings);
    const metadata = settings.metadata;
    const options = () => grpcCallOptions({ deadline: settings.timeoutMs });
    const type = cheeseType(values.type);
    try {
      switch (sub) {
        case 'order': {
          if (!type || values.age === undefined) throw new UsageError('cheese order needs --type and --age');
          const request = {
            type,
            age: Number(values.age),
            quantity: Number(values.quantity ?? 1),
            idempotencyKey: values['idempotency-key'] ?? randomUUID(),
          };
          printReply(await unaryReply<Cheese__Output>((done) => client.order(request, metadata, options(), done)), settings.json, describeOrder);
          return 0;
        }
        case 'get': {
          if (!positionals[0]) throw new UsageError('cheese get needs an ORDER_ID');
          const request = { orderId: positionals[0] };
          printReply(await unaryReply<Cheese__Output>((done) => client.getOrder(request, metadata, options(), done)), settings.json, describeOrder);
          return 0;
        }
        case 'list': {
          const request = { type, pageSize: Number(values['page-size'] ?? 20), pageToken: values['page-token'] ?? '' };
          const page = await unaryReply<ListOrdersResponse__Output>((done) => client.listOrders(request, metadata, options(), done));
          printReply(page, settings.json, (page: ListOrdersResponse__Output) =>
            [...(page.orders ?? []).map(describeOrder), page.nextPageToken ? `next page: --page-token ${page.nextPageToken}` : '(end)'].join('\n'),
          );
          return 0;
        }
        case 'watch': {
          // A watch has no deadline: it runs until the user stops it.
          const stream = client.watchOrders({ type }, metadata);
          process.once('SIGINT', () => stream.cancel());
          try {
            for await (const event of stream as AsyncIterable<OrderEvent__Output>) {
              printReply(event, settings.json, (e: OrderEvent__Output) => (e.order ? `${e.kind} ${describeOrder(e.order)}` : String(e.kind)));
            }
          } catch (error) {
            if ((error as { code?: number }).code === 1) return 0; // CANCELLED by Ctrl-C
            throw error;
          }
          return 0;
        }
        default:
          throw new UsageError(`unknown cheese command "${sub}"`);
      }
    } catch (error) {
      if (error instanceof UsageError) throw error;
      return printCallError(error, settings.json);
    } finally {
      client.close();
    }
  },
};

/** `--type`, upper-cased and checked against the proto's enum; undefined when not given. */
function cheeseType(value: string | undefined): CheeseTypeName | undefined {
  if (value === undefined) return undefined;
  const name = value.toUpperCase();
  if (!isCheeseType(name)) throw new UsageError(`--type must be one of ${CHEESE_TYPES.join(', ')}; got "${value}"`);
  return name;
}
