// The error class of smart-launch, thrown by every layer. Its `code` is stable (see the
// README's table); its message never contains a token, an authorization code, a
// verifier or a state value.
export class SmartError extends Error {
  /**
   * @param {string} code a stable snake_case code
   * @param {{ message?: string, field?: string, status?: number, oauthError?: string,
   *           description?: string }} [details] what the wasm's error answers carry
   */
  constructor(code, details = {}) {
    super(details.message ?? (details.field ? `${code} (field \`${details.field}\`)` : code));
    this.name = "SmartError";
    this.code = code;
    for (const key of ["status", "oauthError", "description", "field"]) {
      if (details[key] !== undefined) this[key] = details[key];
    }
  }
}
