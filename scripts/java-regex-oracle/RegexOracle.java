import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * java.util.regex as a test oracle for the `regexp` operator: Esper compiles a rule's pattern with
 * Pattern.compile(pattern) (no flags) and tests a value with matcher(value).matches(), as here.
 *
 * One case per stdin line: fields separated by tabs, the pattern first, then the inputs; each field is a '.'
 * followed by its UTF-16 code units as 4 hex digits each (so any string, line terminators and lone surrogates
 * included, survives the trip). One answer per line: "E<tab>description" when Pattern.compile refuses the
 * pattern, otherwise "M<tab>" and one character per input: 1 (matches), 0 (does not) or ? (undecided: Java's
 * backtracking overflowed its stack or took more than BUDGET_NANOS, which some generated patterns make it do).
 */
public class RegexOracle {
  static final long BUDGET_NANOS = 200_000_000L;

  static final class OutOfTime extends RuntimeException {
    OutOfTime() {
      super(null, null, false, false);
    }
  }

  /** The input, read by the matcher through charAt: every 4,096 reads check the clock. */
  static final class Budgeted implements CharSequence {
    private final String text;
    private final long deadline;
    private int reads;

    Budgeted(String text, long deadline) {
      this.text = text;
      this.deadline = deadline;
    }

    public char charAt(int index) {
      if ((++reads & 4095) == 0 && System.nanoTime() > deadline) throw new OutOfTime();
      return text.charAt(index);
    }

    public int length() {
      return text.length();
    }

    public CharSequence subSequence(int start, int end) {
      return new Budgeted(text.substring(start, end), deadline);
    }

    public String toString() {
      return text;
    }
  }

  static String decode(String field) {
    StringBuilder text = new StringBuilder();
    for (int i = 1; i + 4 <= field.length(); i += 4) text.append((char) Integer.parseInt(field.substring(i, i + 4), 16));
    return text.toString();
  }

  public static void main(String[] args) throws IOException {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintWriter out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8)));
    String line;
    while ((line = in.readLine()) != null) {
      String[] fields = line.split("\t", -1);
      Pattern pattern;
      try {
        pattern = Pattern.compile(decode(fields[0]));
      } catch (PatternSyntaxException e) {
        out.println("E\t" + e.getDescription().replace('\n', ' ').replace('\t', ' '));
        continue;
      }
      StringBuilder answers = new StringBuilder("M\t");
      for (int i = 1; i < fields.length; i++) {
        try {
          answers.append(pattern.matcher(new Budgeted(decode(fields[i]), System.nanoTime() + BUDGET_NANOS)).matches() ? '1' : '0');
        } catch (StackOverflowError | OutOfTime e) {
          answers.append('?');
        }
      }
      out.println(answers);
    }
    out.flush();
  }
}
