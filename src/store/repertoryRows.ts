// How the repertory's two levels (contract §5) are stored: a sector-level integration has no
// institution; it is stored with institution_cbe '' rather than NULL, so the table's unique key
// (ssin, sector, institution_cbe, quality_code, start_date) holds for it too (NULLs are never
// equal in a unique index, on SQLite as on PostgreSQL) and lookups stay one index seek.
import type { Integration } from '../interfaces.js';

export const SECTOR_LEVEL = '';

export function storedInstitution(cbe: string | null): string {
  return cbe ?? SECTOR_LEVEL;
}

export interface RepertoryRow {
  ssin: string;
  sector: number | string;
  institution_cbe: string | null;
  quality_code: number | string;
  start_date: string;
  end_date: string | null;
}

export const REPERTORY_COLUMNS = ['ssin', 'sector', 'institution_cbe', 'quality_code', 'start_date', 'end_date'] as const;

export function toIntegration(r: RepertoryRow): Integration {
  return {
    ssin: r.ssin,
    sector: Number(r.sector),
    institutionCbe: r.institution_cbe === null || r.institution_cbe === SECTOR_LEVEL ? null : r.institution_cbe,
    qualityCode: Number(r.quality_code),
    startDate: r.start_date,
    endDate: r.end_date,
  };
}
