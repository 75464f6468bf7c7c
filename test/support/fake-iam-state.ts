import { randomBytes, randomUUID } from "node:crypto";

/**
 * State and actions of the fake IAM/STS server (test/support/fake-iam.ts). Mirrors the IAM rules
 * our provider depends on: NoSuchEntity for unknown users/policies/groups, EntityAlreadyExists,
 * DeleteConflict when a user still has keys/policies/groups, at most 2 access keys, JSON policies.
 */
export class IamError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface FakeUser {
  name: string;
  id: string;
  arn: string;
  path: string;
  createDate: string;
  boundary?: string;
  tags: Record<string, string>;
  inlinePolicies: Record<string, string>;
  attachedPolicies: string[];
  groups: string[];
  accessKeys: string[];
}

export interface Credentials {
  secret: string;
  sessionToken?: string;
  /** IAM user that owns a key made by CreateAccessKey. */
  user?: string;
  arn: string;
}

export const ACCOUNT = "000000000000";
export const NAME_RE = /^[\w+=,.@-]{1,64}$/;
const id = (prefix: string, n = 16) => prefix + randomBytes(n).toString("hex").toUpperCase().slice(0, n);
const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");

export class IamState {
  readonly users = new Map<string, FakeUser>();
  readonly groups = new Map<string, Set<string>>();
  readonly policies = new Set<string>();
  readonly roles = new Map<string, { externalId?: string }>();
  /** Every key that can sign requests: root keys, user keys, and STS session keys. */
  readonly keys = new Map<string, Credentials>();

  user(name: string | undefined): FakeUser {
    const u = name ? this.users.get(name) : undefined;
    if (!u) throw new IamError("NoSuchEntity", 404, `The user with name ${name} cannot be found.`);
    return u;
  }

  createUser(name: string | undefined, path = "/", boundary?: string, tags: Record<string, string> = {}): FakeUser {
    if (!name || !NAME_RE.test(name)) throw new IamError("ValidationError", 400, "Invalid UserName.");
    if (!/^\/([\x21-\x7e]+\/)?$/.test(path)) throw new IamError("ValidationError", 400, "Invalid Path.");
    if (this.users.has(name)) throw new IamError("EntityAlreadyExists", 409, `User with name ${name} already exists.`);
    if (boundary) this.policy(boundary);
    const u: FakeUser = {
      name,
      id: id("AIDA"),
      arn: `arn:aws:iam::${ACCOUNT}:user${path}${name}`,
      path,
      createDate: now(),
      ...(boundary ? { boundary } : {}),
      tags,
      inlinePolicies: {},
      attachedPolicies: [],
      groups: [],
      accessKeys: [],
    };
    this.users.set(name, u);
    return u;
  }

  deleteUser(name: string | undefined): void {
    const u = this.user(name);
    const left = u.accessKeys.length
      ? "must delete access keys first"
      : Object.keys(u.inlinePolicies).length
        ? "must delete policies first"
        : u.attachedPolicies.length
          ? "must detach all policies first"
          : u.groups.length
            ? "must remove users from group first"
            : null;
    if (left) throw new IamError("DeleteConflict", 409, `Cannot delete entity, ${left}.`);
    this.users.delete(u.name);
  }

  policy(arn: string | undefined): string {
    if (!arn || !(this.policies.has(arn) || arn.startsWith("arn:aws:iam::aws:policy/"))) {
      throw new IamError("NoSuchEntity", 404, `Policy ${arn} does not exist or is not attachable.`);
    }
    return arn;
  }

  group(name: string | undefined): Set<string> {
    const g = name ? this.groups.get(name) : undefined;
    if (!g) throw new IamError("NoSuchEntity", 404, `The group with name ${name} cannot be found.`);
    return g;
  }

  putUserPolicy(user: string | undefined, policyName: string | undefined, doc: string | undefined): void {
    const u = this.user(user);
    if (!policyName || !NAME_RE.test(policyName)) throw new IamError("ValidationError", 400, "Invalid PolicyName.");
    let parsed: unknown;
    try {
      parsed = JSON.parse(doc ?? "");
    } catch {
      throw new IamError("MalformedPolicyDocument", 400, "Syntax errors in policy.");
    }
    if (!parsed || typeof parsed !== "object" || !("Statement" in parsed)) {
      throw new IamError("MalformedPolicyDocument", 400, "Policy document must contain a Statement.");
    }
    u.inlinePolicies[policyName] = doc as string;
  }

  deleteUserPolicy(user: string | undefined, policyName: string | undefined): void {
    const u = this.user(user);
    if (!policyName || !(policyName in u.inlinePolicies)) {
      throw new IamError("NoSuchEntity", 404, `The user policy with name ${policyName} cannot be found.`);
    }
    delete u.inlinePolicies[policyName];
  }

  attach(user: string | undefined, arn: string | undefined): void {
    const u = this.user(user);
    const p = this.policy(arn);
    if (!u.attachedPolicies.includes(p)) u.attachedPolicies.push(p);
  }

  detach(user: string | undefined, arn: string | undefined): void {
    const u = this.user(user);
    if (!arn || !u.attachedPolicies.includes(arn)) throw new IamError("NoSuchEntity", 404, `Policy ${arn} was not found.`);
    u.attachedPolicies = u.attachedPolicies.filter((a) => a !== arn);
  }

  addToGroup(user: string | undefined, group: string | undefined): void {
    const u = this.user(user);
    this.group(group).add(u.name);
    if (!u.groups.includes(group as string)) u.groups.push(group as string);
  }

  removeFromGroup(user: string | undefined, group: string | undefined): void {
    const u = this.user(user);
    const g = this.group(group);
    if (!g.has(u.name)) throw new IamError("NoSuchEntity", 404, `User ${u.name} is not in group ${group}.`);
    g.delete(u.name);
    u.groups = u.groups.filter((x) => x !== group);
  }

  createAccessKey(user: string | undefined): { akid: string; secret: string } {
    const u = this.user(user);
    if (u.accessKeys.length >= 2) throw new IamError("LimitExceeded", 409, "Cannot exceed quota for AccessKeysPerUser: 2");
    const akid = id("AKIA");
    const secret = randomBytes(30).toString("base64");
    this.keys.set(akid, { secret, user: u.name, arn: u.arn });
    u.accessKeys.push(akid);
    return { akid, secret };
  }

  deleteAccessKey(user: string | undefined, akid: string | undefined): void {
    const u = this.user(user);
    if (!akid || !u.accessKeys.includes(akid)) {
      throw new IamError("NoSuchEntity", 404, `The Access Key with id ${akid} cannot be found.`);
    }
    u.accessKeys = u.accessKeys.filter((k) => k !== akid);
    this.keys.delete(akid);
  }

  assumeRole(arn: string | undefined, externalId: string | undefined) {
    const role = arn ? this.roles.get(arn) : undefined;
    if (!role || role.externalId !== externalId) {
      throw new IamError("AccessDenied", 403, `User is not authorized to perform: sts:AssumeRole on resource: ${arn}`);
    }
    const akid = id("ASIA");
    const creds = { secret: randomBytes(30).toString("base64"), sessionToken: randomUUID(), arn: `${arn}/session` };
    this.keys.set(akid, creds);
    return { akid, ...creds, expiration: new Date(Date.now() + 3600_000).toISOString() };
  }
}
