import { z } from 'zod';

const scope = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'a scope is printable ASCII without spaces, quotes or backslashes');

/** Fields a rule may set; see interceptors/access-policy.ts for their meaning and defaults. */
const ruleFields = {
  /** A valid bearer token must be sent. Default true. */
  requireToken: z.boolean().optional(),
  /** Every one of these scopes must be in the token. Default none. */
  scopes: z.array(scope).optional(),
  /** Certificate identities allowed (glob). Default any the global allow-list admits. */
  identities: z.array(z.string().min(1)).min(1).optional(),
  /** The token must be bound to the client certificate (RFC 8705). Default false. */
  requireBoundToken: z.boolean().optional(),
  /** The token's sub must equal the certificate identity. Default false. */
  requireSubjectMatchesIdentity: z.boolean().optional(),
};

const MethodRuleSchema = z.strictObject(ruleFields);
const ServiceRuleSchema = z.strictObject({
  ...ruleFields,
  /** Per-method overrides by method name (`Order`); a field set here replaces the service's. */
  methods: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a method name, e.g. Order'), MethodRuleSchema).optional(),
});
// A service declared without a package has a bare name (`Search`): routed services may be such.
const serviceName = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/,
    'a fully-qualified service name, e.g. cheesefarm.v1.CheeseService (or a bare Search for a service without a package)',
  );

/** The policy file (config/policy.yaml): who may call what. Methods of services not named are denied. */
export const PolicyDocumentSchema = z.strictObject({
  /** Applied under every service rule. */
  defaults: MethodRuleSchema.optional(),
  /** Rules by fully-qualified service name. */
  services: z.record(serviceName, ServiceRuleSchema).default({}),
});

/** The `policy` config section: where the policy file is, plus inline rules merged over it. */
export const PolicySchema = z
  .strictObject({
    /** The policy file. Default config/policy.yaml. */
    file: z.string().min(1).default('config/policy.yaml'),
    /** Inline defaults; replace the file's defaults when given. */
    defaults: MethodRuleSchema.optional(),
    /** Inline service rules; each replaces the file's rule for the same service (tests, small deployments). */
    services: z.record(serviceName, ServiceRuleSchema).optional(),
  })
  .prefault({});

/** The validated `policy` section. */
export type PolicyConfig = z.infer<typeof PolicySchema>;
