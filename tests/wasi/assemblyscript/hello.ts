// An AssemblyScript WASI command (through @assemblyscript/wasi-shim).
console.log("Hello from AssemblyScript!");
const args = process.argv;
for (let i = 0; i < args.length; i++) console.log("arg " + i.toString() + ": " + args[i]);
process.exit(3);
