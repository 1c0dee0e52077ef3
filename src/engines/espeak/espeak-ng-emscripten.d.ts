/** The package ships no typings: its default export builds the Emscripten module; `espeak-backend.ts` types the parts used. */
declare module '@echogarden/espeak-ng-emscripten' {
  const initialise: () => Promise<unknown>;
  export default initialise;
}
