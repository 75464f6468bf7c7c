import type { SecretView } from "../secrets/types.js";

/**
 * Phase's secret object, field for field and in its order (DRF's camelCase renderer). Built
 * explicitly so nothing unlisted can reach the wire.
 */
export interface PhaseSecret {
  id: string;
  key: string;
  value: string;
  comment: string;
  tags: string[];
  override: { id: string; value: string; isActive: boolean; createdAt: string; updatedAt: string } | null;
  type: string;
  lifecycle: "static";
  path: string;
  keyDigest: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  environment: string;
  folder: string | null;
}

let lastTime = NaN;
let lastText = "";

/**
 * DRF's DateTimeField in UTC: microseconds and `Z` (we keep milliseconds, padded). The last result
 * is reused: a secret's createdAt and updatedAt, and secrets created together, share timestamps.
 */
export function phaseTimestamp(d: Date): string {
  const t = d.getTime();
  if (t !== lastTime) {
    lastText = `${d.toISOString().slice(0, -1)}000Z`;
    lastTime = t;
  }
  return lastText;
}

export function toPhaseSecret(s: SecretView): PhaseSecret {
  return {
    id: s.id,
    key: s.key,
    value: s.value,
    comment: s.comment,
    tags: s.tags,
    override: s.override
      ? {
          id: s.override.id,
          value: s.override.value,
          isActive: s.override.isActive,
          createdAt: phaseTimestamp(s.override.createdAt),
          updatedAt: phaseTimestamp(s.override.updatedAt),
        }
      : null,
    type: s.type,
    lifecycle: "static",
    path: s.path,
    keyDigest: s.keyDigest,
    version: s.version,
    createdAt: phaseTimestamp(s.createdAt),
    updatedAt: phaseTimestamp(s.updatedAt),
    environment: s.environmentId,
    folder: s.folderId,
  };
}
