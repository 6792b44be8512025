import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import type { AssumedRole, RoleAssumption } from '../access/assumed-role.js';
import type { EventLimitVariable } from '../core/config.js';
import type { EndpointOf, ExtrasOf, VendorApi, VendorParams } from '../vendor/api.js';

/** What every operation spec says, whichever vendor it calls. */
interface CommonSpec<Request extends z.ZodMiniObject, Data extends z.ZodMiniType> {
  /** `<product>:<Action>`, as reported in answers, logs and the caller policy. */
  name: string;
  /** The file in functions/ (and the Lambda function's name in the stage). */
  functionName: string;
  route: `/v1/${string}`;
  summary: string;
  /** The vendor's action name. */
  action: string;
  /** The events this function accepts; any other kind of event is refused before a key is read. */
  triggers: readonly [Trigger, ...Trigger[]];
  /** The HTTP body, lowerCamelCase vendor parameter names; unknown fields are refused. */
  request: Request;
  /**
   * Where the vendor puts its payload, and the schema of that payload after lowerCamelCasing.
   * `field` names a member of the vendor's whole answer body: Alibaba `Data`, `Credentials`;
   * UCloud `DataSet`; Tencent Cloud `Response` (every Tencent answer is `{"Response": {...}}`,
   * so the payload is that object: STS AssumeRole's `credentials`, `expiredTime`,
   * `expiration` and `requestId` after lowerCamelCasing).
   */
  response: { field: string; data: Data };
  /** When the returned credentials stop working (epoch ms); absent for operations that return none. */
  expiresAt?(data: z.infer<Data>, issuedAt: number): number | undefined;
  /**
   * Body → vendor parameters; by default each field's first letter is upper-cased. An
   * operation that `assumesRole` gets the role, session name and session policy as `role`.
   */
  toParams?(body: z.infer<Request>, role?: AssumedRole): VendorParams;
  /**
   * STS: `assumesRole('<VARIABLE>')` (lib/access/assumed-role.ts). The role's ARN is the value of that
   * configuration variable, never the caller's choice; RoleSessionName is derived from the
   * caller and Policy is the session policy its caller-policy rule renders. HTTP only: a
   * schedule or an event has no caller to scope credentials to.
   */
  assumesRole?: RoleAssumption;
  /**
   * Body fields an event (SQS, EventBridge) may fill only from a configured allow-list:
   * field → the variable listing the allowed values. Events are not callers of the caller
   * policy; this is what confines them.
   */
  eventLimits?: Partial<Record<keyof z.infer<Request> & string, EventLimitVariable>>;
  /** The vendor's documented limit on calls per second for this operation. */
  ratePerSecond?: number;
  /** Vendor codes that mean "already done": an idempotent repeat, answered as success once reconciled. */
  alreadyDone?: (vendorCode: string) => boolean;
  /**
   * How to check an "already done" repeat against what the body asks: the vendor's read
   * action (its answer has the same `response.field`) and what must match. A repeat whose
   * current state differs fails with the reason; it is never silently taken as success.
   */
  reconcile?: {
    action: string;
    toParams(body: z.infer<Request>): VendorParams;
    /** Why the current state does not satisfy the body, or undefined when it does. */
    differs(body: z.infer<Request>, current: z.infer<Data>): string | undefined;
  };
}

/**
 * One vendor operation, described declaratively; everything else in lib/ is shared machinery.
 * `Api` is the vendor the spec names (`api`, made by defineVendor in lib/vendor/<vendor>.ts):
 * it decides which `endpoint` variables the spec may name and which fields of its own the spec
 * carries (Alibaba Cloud: `version`, `style`, `paramsIn`; Tencent Cloud: `version`, `service`;
 * UCloud: none), so a new vendor brings its spec fields with it.
 */
export type Operation<
  Request extends z.ZodMiniObject = z.ZodMiniObject,
  Data extends z.ZodMiniType = z.ZodMiniType,
  Api extends VendorApi = VendorApi,
> = VendorSpec<Request, Data, Api> & ExtrasOf<Api>;

/** What every spec says, with the vendor it calls. */
interface VendorSpec<Request extends z.ZodMiniObject, Data extends z.ZodMiniType, Api extends VendorApi> extends CommonSpec<Request, Data> {
  /** The vendor's name: `api.name`. */
  vendor: Api['name'];
  /** The vendor's adapter (`aliyunApi`, …): imported by the spec, so the bundle holds only this vendor's code. */
  api: Api;
  /** The configuration variable holding the vendor's base URL: one its adapter declares. */
  endpoint: EndpointOf<Api>;
}

/** Marks a spec made by defineOperation, so the registry can tell specs from other exports. */
const OPERATION = Symbol.for('cloud-token-broker.operation');

/** Declares an operation; the registry (lib/operations/index.ts) finds every value made here. */
export function defineOperation<Request extends z.ZodMiniObject, Data extends z.ZodMiniType, Api extends VendorApi>(
  spec: Operation<Request, Data, Api>,
): Operation<Request, Data, Api> {
  if (spec.vendor !== spec.api.name) throw new Error(`${spec.functionName}: vendor ${spec.vendor} is not its api's (${spec.api.name})`);
  return Object.freeze({ ...spec, [OPERATION]: true }) as Operation<Request, Data, Api>;
}

/** True for a value made by defineOperation. */
export function isOperation(value: unknown): value is Operation {
  return typeof value === 'object' && value !== null && OPERATION in value;
}

/** The trigger of `kind` an operation accepts, if it accepts one. */
export function triggerOf<K extends Trigger['kind']>(op: Operation, kind: K): Extract<Trigger, { kind: K }> | undefined {
  return op.triggers.find((t): t is Extract<Trigger, { kind: K }> => t.kind === kind);
}

/** What every success answer looks like; a schema so OpenAPI and tests can reuse it. */
export function answerSchema<Data extends z.ZodMiniType>(data: Data) {
  return z.object({
    operation: z.string(),
    requestId: z.string(),
    vendorRequestId: z.optional(z.string()),
    expiresAt: z.optional(z.string()),
    refreshAfter: z.optional(z.string()),
    alreadyProvisioned: z.optional(z.boolean()),
    data: z.nullable(data),
  });
}

// The triggers an operation declares: one kind of event each (lib/runtime/triggers/ builds their stacks).

/** A Lambda handler as the runtime calls it. */
export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

/**
 * One kind of event a function is wired to. A spec lists its triggers; the deploy template
 * reads `kind` (and a schedule's `rate`), the handler asks each trigger whether an event is
 * its own and hands it to that trigger's middy stack.
 */
interface TriggerBase<K extends string> {
  kind: K;
  /** Whether `event` is of this trigger's shape. */
  accepts(event: unknown): boolean;
  /** The middy stack that handles this trigger's events for `op`. */
  handler(op: Operation): LambdaHandler;
}

/** API Gateway (HTTP API payload 2.0, or REST API payload 1.0): the caller policy applies. */
export type HttpTrigger = TriggerBase<'http'>;

/** An EventBridge schedule whose input is `{"rotate": [<body>, ...]}`. */
export interface ScheduleTrigger extends TriggerBase<'schedule'> {
  /** The schedule's default rate, e.g. `rate(5 minutes)`; a stage parameter may override it. */
  rate: string;
}

/** An SQS queue fed by the stage's event bus: one request body per message. */
export type SqsTrigger = TriggerBase<'sqs'>;

/** An EventBridge event delivered straight to the function: `detail` is the body. */
export type EventBridgeTrigger = TriggerBase<'eventbridge'>;

/** Any trigger an operation can declare. */
export type Trigger = HttpTrigger | ScheduleTrigger | SqsTrigger | EventBridgeTrigger;
/** The kinds of trigger: http, schedule, sqs, eventbridge. */
export type TriggerKind = Trigger['kind'];
