/**
 * The token dialog shown when the API answers 401: a modal <dialog> with
 * a labelled password field. Resolves with the token or null on cancel.
 * @module
 */
import { byId } from "./dom.ts";

/** Opens the page's token dialog with `reason` and waits for the user. */
export function promptForToken(reason: string): Promise<string | null> {
  const dialog = byId("token-dialog", HTMLDialogElement);
  const form = byId("token-form", HTMLFormElement);
  const input = byId("token-input", HTMLInputElement);
  byId("token-reason", HTMLElement).textContent = reason;
  input.value = "";
  return new Promise((resolve) => {
    const done = (token: string | null) => {
      form.removeEventListener("submit", onSubmit);
      dialog.removeEventListener("cancel", onCancel);
      byId("token-cancel", HTMLButtonElement).removeEventListener(
        "click",
        onCancel,
      );
      if (dialog.open) dialog.close();
      resolve(token);
    };
    const onSubmit = (e: Event) => {
      e.preventDefault();
      done(input.value);
    };
    const onCancel = (e: Event) => {
      e.preventDefault();
      done(null);
    };
    form.addEventListener("submit", onSubmit);
    dialog.addEventListener("cancel", onCancel);
    byId("token-cancel", HTMLButtonElement).addEventListener("click", onCancel);
    dialog.showModal();
    input.focus();
  });
}
