// The part of pg-native (no typings of its own) the PostgreSQL store uses.
declare module 'pg-native' {
  interface TypeParsers {
    getTypeParser(oid: number, format?: string): (value: string) => unknown;
  }
  class Client {
    constructor(config?: { types?: TypeParsers; arrayMode?: boolean });
    /** The libpq binding: the last result's counts; PQtransactionStatus (4: the connection is bad). */
    readonly pq: { cmdTuples(): string; transactionStatus(): number };
    connectSync(params?: string): void;
    querySync(text: string, values?: (string | null)[]): unknown[];
    prepareSync(name: string, text: string, nParams: number): void;
    executeSync(name: string, values: (string | null)[]): unknown[];
    end(cb?: () => void): void;
  }
  export = Client;
}
