// What an extract reads from the read model (src/readmodel), kept to its public API in one
// place: every person of the register in SSIN order, the person's integrations that may count
// for the client, and the person's amount rows of one year as beneficiary. The model of the
// store version fixed at the claim answers, so a re-run reads the same data (contract §5).
import type { Integration, Person, YearTotal } from '../interfaces.js';
import type { ReadModel } from '../readmodel/model.js';
import { amountColumns, yearOf } from '../domain/aggregate.js';

export interface ExtractHolder {
  cbeNumber: string;
  sector: number;
}

export interface PersonView {
  person: Person;
  /** The person's integrations of the holder's sector (sector level) or CBE (institution level). */
  integrations(): Integration[];
  /** The person's Year answer as beneficiary (the amounts rules on the model's compact rows). */
  yearTotals(year: number, referenceDate: string): YearTotal[];
}

/** The persons of the register, in ascending SSIN order (the model's order), one at a time. */
export function* personsOf(model: ReadModel, holder: ExtractHolder): Generator<PersonView> {
  const count = model.header.counts.persons;
  // One set of columns reused for every person: no object per amount row (issue 15).
  const cols = amountColumns(model.strings);
  for (let i = 0; i < count; i++) {
    const person = model.person(i);
    yield {
      person,
      integrations: () => model.integrations(i, holder.cbeNumber, holder.sector),
      yearTotals: (year, referenceDate) => {
        const y = String(year).padStart(4, '0');
        model.amountColumns(cols, person.ssin, 'BENEFICIARY', `${y}-`, `${y}-\uffff`, undefined);
        return yearOf(cols, 'BENEFICIARY', year, referenceDate);
      },
    };
  }
}
