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

/** DRF's DateTimeField in UTC: microseconds and `Z` (we keep milliseconds, padded). */
export function phaseTimestamp(d: Date): string {
  return `${d.toISOString().slice(0, -1)}000Z`;
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
