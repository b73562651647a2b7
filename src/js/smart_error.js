// The error class of smart-launch, thrown by every layer. Its `code` is stable (see the
// README's table); its message never contains a token, an authorization code, a
// verifier or a state value.
export class SmartError extends Error {
  /**
   * @param {string} code a stable snake_case code
   * @param {{ field?: string, status?: number, oauthError?: string,
   *           description?: string }} [details] what the wasm's error answers carry
   */
  constructor(code, details = {}) {
    // The message is the one Display gives the Rust error (src/protocol/error.rs), built
    // here so that the wasm does not ship it: the code, the field, then what the server
    // said.
    const { field, status, oauthError, description } = details;
    super(
      code +
        (field ? ` (field \`${field}\`)` : "") +
        (status !== undefined ? ` HTTP ${status}` : "") +
        (oauthError ? ` error=${oauthError}` : "") +
        (description ? `: ${description}` : ""),
    );
    this.name = "SmartError";
    this.code = code;
    for (const key of ["status", "oauthError", "description", "field"]) {
      if (details[key] !== undefined) this[key] = details[key];
    }
  }
}

/** The error of an app-supplied option the JS checks itself (the wasm checks the rest). */
export const invalidOptions = (field) => new SmartError("invalid_options", { field });
