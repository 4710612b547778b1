/**
 * Entry point: parses flags and serves. Until the server issue lands this
 * serves only the health routes.
 * @module
 */
const port = Number(Deno.env.get("PORT") ?? 9090);
Deno.serve({ port }, (req) => {
  const path = new URL(req.url).pathname;
  if (path === "/-/healthy" || path === "/-/ready") {
    return new Response("OK\n");
  }
  return new Response("not found\n", { status: 404 });
});
