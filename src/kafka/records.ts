// Moved to src/model/record.ts; this re-export goes once every importer is switched.
export * from '../model/record.ts'
