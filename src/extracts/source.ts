// What an extract reads from the read model (src/readmodel), kept to its public API in one
// place: every person of the register in SSIN order, the person's integrations that may count
// for the client, and the person's amount rows of one year as beneficiary. The model of the
// store version fixed at the claim answers, so a re-run reads the same data (contract §5).
import type { AmountRow, Integration, Person } from '../interfaces.js';
import type { ReadModel } from '../readmodel/model.js';

export interface ExtractHolder {
  cbeNumber: string;
  sector: number;
}

export interface PersonView {
  person: Person;
  /** The person's integrations of the holder's sector (sector level) or CBE (institution level). */
  integrations(): Integration[];
  /** The person's amount rows as beneficiary whose month is in `year` (visibility is the rules' job). */
  yearRows(year: number): AmountRow[];
}

/** The persons of the register, in ascending SSIN order (the model's order), one at a time. */
export function* personsOf(model: ReadModel, holder: ExtractHolder): Generator<PersonView> {
  const count = model.header.counts.persons;
  for (let i = 0; i < count; i++) {
    const person = model.person(i);
    yield {
      person,
      integrations: () => model.integrations(i, holder.cbeNumber, holder.sector),
      yearRows: (year) => {
        const y = String(year).padStart(4, '0');
        return model.amountRows(person.ssin, 'BENEFICIARY', `${y}-`, `${y}-\uffff`, undefined);
      },
    };
  }
}
