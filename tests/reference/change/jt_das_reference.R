# Independent base-R reference for the Jacobson-Truax classification of the
# J&T (1991) Table 2 Dyadic Adjustment Scale data (n = 30, higher is better).
# Run from this folder:  Rscript jt_das_reference.R
# Writes jt_das_reference.csv (per client) and jt_das_reference.json (summary).
# Choices (documented in README.md): s1 = sd(pre), r = .84 (as in the JTRCI
# README), z = 1.96 with strict inequalities, cutoff a = mean(pre) + 2 * sd(pre)
# (pre-treatment sample as the dysfunctional population); a score is
# dysfunctional when it is <= the cutoff.
library(jsonlite)
d <- read.csv("jt1991_table2_das.csv")
r <- 0.84
z <- 1.96
s1 <- sd(d$pre)
se <- s1 * sqrt(1 - r)
s_diff <- sqrt(2 * se^2)
cutoff_a <- mean(d$pre) + 2 * sd(d$pre)
change <- d$post - d$pre
rci <- change / s_diff
reliable <- ifelse(rci > z, "reliably_improved",
            ifelse(rci < -z, "reliably_deteriorated", "no_reliable_change"))
dys_pre <- d$pre <= cutoff_a
dys_post <- d$post <= cutoff_a
category <- ifelse(reliable == "reliably_improved" & dys_pre & !dys_post, "recovered",
            ifelse(reliable == "reliably_improved", "improved",
            ifelse(reliable == "reliably_deteriorated" & !dys_pre & dys_post, "harmed",
            ifelse(reliable == "reliably_deteriorated", "deteriorated", "unchanged"))))
out <- data.frame(ppid = d$ppid, pre = d$pre, post = d$post,
                  "change = post - pre" = change,
                  "rci = change / s_diff" = rci,
                  reliable_change = reliable, category = category,
                  check.names = FALSE)
write.csv(out, "jt_das_reference.csv", row.names = FALSE)
summ <- list(
  "r" = r,
  "z" = z,
  "sd(pre)" = s1,
  "se = sd(pre) * sqrt(1 - r)" = se,
  "s_diff = sqrt(2 * se^2)" = s_diff,
  "threshold = z * s_diff" = z * s_diff,
  "cutoff_a = mean(pre) + 2 * sd(pre)" = cutoff_a,
  "table(category)" = as.list(table(category)),
  "table(reliable_change)" = as.list(table(reliable)),
  "R.version.string" = R.version.string
)
writeLines(toJSON(summ, auto_unbox = TRUE, digits = NA, pretty = TRUE), "jt_das_reference.json")
