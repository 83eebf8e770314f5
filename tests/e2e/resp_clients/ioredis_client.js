// ioredis with its default options (HELLO 3 handshake, INFO ready check) against PORT: PING,
// ECHO, CLIENT SETNAME/GETNAME. Usage: node ioredis_client.js NODE_DIR PORT. Prints the version
// and the results; exits 0 only if every reply is as expected.
const path = require("path");
const [nodeDir, port] = process.argv.slice(2);
const modules = path.join(nodeDir, "node_modules");
const ioredis = require(path.join(modules, "ioredis"));
const Redis = ioredis.default || ioredis.Redis || ioredis;
const version = require(path.join(modules, "ioredis", "package.json")).version;

async function main() {
  const redis = new Redis({ host: "127.0.0.1", port: Number(port) });
  redis.on("error", (error) => console.log("error event: " + error.message));
  const results = [
    await redis.ping(),
    await redis.echo("hello world"),
    await redis.client("SETNAME", "ioredis-test"),
    await redis.client("GETNAME"),
  ];
  await redis.quit();
  console.log(`ioredis ${version}: ${results.join(" | ")}`);
  const expected = ["PONG", "hello world", "OK", "ioredis-test"];
  process.exit(JSON.stringify(results) === JSON.stringify(expected) ? 0 : 1);
}

setTimeout(() => { console.log("ioredis: timed out"); process.exit(2); }, 20000).unref();
main().catch((error) => { console.log("ioredis failed: " + error.stack); process.exit(1); });
