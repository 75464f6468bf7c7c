import type { App } from "../http/types.js";
import type { Container } from "../container.js";

// PLACEHOLDER: Phase's /v1/secrets/ routes are being written (issue #2).
export async function registerPhaseRoutes(_app: App, _c: Container): Promise<void> {}
