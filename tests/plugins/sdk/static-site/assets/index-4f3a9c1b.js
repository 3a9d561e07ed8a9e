console.log("built by a bundler");
