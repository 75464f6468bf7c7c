export type SecretType = "secret" | "sealed" | "config";
/** Sorted as Phase prints them in its error message. */
export const SECRET_TYPES: readonly SecretType[] = ["config", "sealed", "secret"];

/** Who is asking, and from where (for the audit trail). */
export type { Caller } from "../audit/events.js";

export interface OverrideInput {
  value: string;
  /** Ignored on create (a new override is always active); kept as is on update when omitted. */
  isActive?: boolean | undefined;
}

export interface CreateSecretInput {
  key: string;
  value: string;
  comment: string;
  /** Raw path; normalised by the service. Undefined means `/`. */
  path?: string | undefined;
  tags?: string[] | undefined;
  type: SecretType;
  override?: OverrideInput | undefined;
}

/** Fields left undefined are kept. */
export interface UpdateSecretInput {
  id: string;
  key?: string | undefined;
  value?: string | undefined;
  comment?: string | undefined;
  path?: string | undefined;
  tags?: string[] | undefined;
  type?: SecretType | undefined;
  override?: OverrideInput | undefined;
}

export interface ListFilter {
  path?: string | undefined;
  key?: string | undefined;
  tags?: string[] | undefined;
}

export interface OverrideView {
  id: string;
  value: string;
  isActive: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** A secret as the API shows it: decrypted, references resolved. */
export interface SecretView {
  id: string;
  key: string;
  value: string;
  comment: string;
  tags: string[];
  override: OverrideView | null;
  type: SecretType;
  path: string;
  keyDigest: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  environmentId: string;
  folderId: string | null;
}
