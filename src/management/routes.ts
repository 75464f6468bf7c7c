import type { App } from "../http/types.js";
import type { Container } from "../container.js";

// PLACEHOLDER: the management routes are being written (issue #2).
export async function registerManagementRoutes(_app: App, _c: Container): Promise<void> {}
