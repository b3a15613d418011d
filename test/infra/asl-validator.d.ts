/** asl-validator ships no type declarations; this is the part of its API the tests use. */
declare module 'asl-validator' {
  export default function aslValidator(definition: object): {
    isValid: boolean;
    errors: { message: string }[];
    errorsText(separator?: string): string;
  };
}
