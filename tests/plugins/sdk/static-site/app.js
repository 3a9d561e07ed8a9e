// static test asset
console.log("app-js-marker");
