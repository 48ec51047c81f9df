// express5 is the npm alias of express@5 (no types of its own): its API for what
// the tests use is the one @types/express describes.
declare module "express5" {
  import express from "express";
  export default express;
}
