import sodium from "libsodium-wrappers";

let ready: Promise<void> | undefined;

/** libsodium's WASM must be initialised once before any call; every entry point awaits this. */
export function sodiumReady(): Promise<void> {
  ready ??= sodium.ready;
  return ready;
}

export { sodium };
