# lmerTest per-term ANOVA tables (types I, II, III; Satterthwaite and Kenward-Roger).
#
# Run from the repository root (after tests/reference/anova/make_data.py):
#     Rscript tests/reference/anova/anova.R
# Writes tests/reference/anova/anova.json. Every table sits under a key naming the
# R expression that produced it (`fit` is the REML fit named by the enclosing keys);
# columns are renamed to engagestats' names: Sum Sq -> sum_sq, Mean Sq -> mean_sq,
# NumDF -> num_df, DenDF -> den_df, F value -> f, Pr(>F) -> p. The hypothesis
# matrices lmerTest tested (attr(table, "hypotheses")) are stored per term, row-major,
# with columns in the order of fixef(fit).
suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(pbkrtest)
  library(jsonlite)
})

here <- "tests/reference/anova"
sleepstudy <- read.csv("tests/reference/lme4/sleepstudy.csv", stringsAsFactors = TRUE)
sleepstudy$Subject <- factor(sleepstudy$Subject)
stopifnot(isTRUE(all.equal(sleepstudy$Reaction, lme4::sleepstudy$Reaction)))
factorial <- read.csv(file.path(here, "factorial.csv"), stringsAsFactors = TRUE)

# Default contrasts (contr.treatment), as engagestats codes factors.
stopifnot(identical(unname(options("contrasts")[[1]][1]), "contr.treatment"))
ctl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-10, maxfun = 1e5))

table_list <- function(tab) {
  list(
    term = rownames(tab), sum_sq = tab[["Sum Sq"]], mean_sq = tab[["Mean Sq"]],
    num_df = tab[["NumDF"]], den_df = tab[["DenDF"]], f = tab[["F value"]],
    p = tab[["Pr(>F)"]],
    hypotheses = lapply(attr(tab, "hypotheses"), function(L) unname(as.matrix(L)))
  )
}

models <- list(
  factorial = list(
    data = "factorial.csv",
    formula = "y ~ time * stage + format * x + (1 | client) + (1 | therapist)",
    frame = factorial
  ),
  threeway = list(
    data = "factorial.csv",
    formula = "y ~ stage * format * x + time + (1 | client) + (1 | therapist)",
    frame = factorial
  ),
  # terms whose lower-order term is absent (R codes a variable without contrasts, entry
  # 2 of attr(terms, "factors"), and lmerTest's containment ignores it)
  slope_by_format = list(
    data = "factorial.csv",
    formula = "y ~ x + x:format + (1 | client) + (1 | therapist)",
    frame = factorial
  ),
  nested = list(
    data = "factorial.csv",
    formula = "y ~ format + format:stage + (1 | client) + (1 | therapist)",
    frame = factorial
  ),
  stage_slopes = list(
    data = "factorial.csv",
    formula = "y ~ stage + stage:x + (1 | client) + (1 | therapist)",
    frame = factorial
  ),
  sleepstudy = list(
    data = "../lme4/sleepstudy.csv",
    formula = "Reaction ~ Days + (Days | Subject)",
    frame = sleepstudy
  )
)

out <- list(
  versions = list(
    R = paste(R.version$major, R.version$minor, sep = "."),
    lme4 = as.character(packageVersion("lme4")),
    lmerTest = as.character(packageVersion("lmerTest")),
    pbkrtest = as.character(packageVersion("pbkrtest"))
  ),
  control = "ctl <- lmerControl(optimizer = \"bobyqa\", optCtrl = list(rhoend = 1e-10, maxfun = 1e5))",
  models = list()
)

for (name in names(models)) {
  m <- models[[name]]
  fit <- lmer(as.formula(m$formula), data = m$frame, REML = TRUE, control = ctl)
  out$models[[name]] <- list(
    data = m$data,
    formula = m$formula,
    fit = "lmer(formula, data, REML = TRUE, control = ctl)",
    "getME(fit, \"theta\")" = unname(getME(fit, "theta")),
    "names(fixef(fit))" = names(fixef(fit)),
    "anova(fit, type = 1)" = table_list(anova(fit, type = 1)),
    "anova(fit, type = 2)" = table_list(anova(fit, type = 2)),
    "anova(fit, type = 3)" = table_list(anova(fit, type = 3)),
    "anova(fit, type = 3, ddf = \"Kenward-Roger\")" =
      table_list(anova(fit, type = 3, ddf = "Kenward-Roger"))
  )
}

writeLines(
  toJSON(out, digits = NA, auto_unbox = FALSE, pretty = TRUE, matrix = "rowmajor"),
  file.path(here, "anova.json")
)
