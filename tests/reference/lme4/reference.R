# Reference values for engagestats.models from lme4 / lmerTest / performance.
#
# Run from the repository root (after tests/reference/lme4/make_lme4_data.py):
#     Rscript tests/reference/lme4/reference.R
# Writes tests/reference/lme4/reference.json and sleepstudy.csv.
# Every number in the JSON sits under a key naming the R expression that produced it
# (`fit` is the fitted lmerTest model named by the enclosing keys).
suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(performance)
  library(jsonlite)
})

here <- "tests/reference/lme4"
write.csv(lme4::sleepstudy, file.path(here, "sleepstudy.csv"), row.names = FALSE)

sleepstudy <- read.csv(file.path(here, "sleepstudy.csv"), stringsAsFactors = TRUE)
sleepstudy$Subject <- factor(sleepstudy$Subject)
growth <- read.csv(file.path(here, "growth.csv"), stringsAsFactors = TRUE)
threelevel <- read.csv(file.path(here, "threelevel.csv"), stringsAsFactors = TRUE)
stages <- read.csv(file.path(here, "stages.csv"), stringsAsFactors = TRUE)

# Tight optimiser tolerances: lme4's defaults stop short of the optimum on stages.csv (ML).
ctl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-9, maxfun = 1e5))

datasets <- list(sleepstudy = sleepstudy, growth = growth, threelevel = threelevel, stages = stages)

named <- function(x) list(names = names(x), values = unname(as.numeric(x)))

coef_table <- function(fit) {
  cs <- coef(summary(fit))
  tq <- qt(0.975, cs[, "df"])
  data.frame(
    term = rownames(cs), estimate = cs[, "Estimate"], se = cs[, "Std. Error"],
    df = cs[, "df"], t = cs[, "t value"], p = cs[, "Pr(>|t|)"],
    ci_low = cs[, "Estimate"] - tq * cs[, "Std. Error"],
    ci_high = cs[, "Estimate"] + tq * cs[, "Std. Error"],
    row.names = NULL, check.names = FALSE
  )
}

ranef_head <- function(fit, n = 3) {
  re <- as.data.frame(ranef(fit, condVar = TRUE))
  re$grp <- as.character(re$grp)
  keep <- unlist(lapply(split(seq_len(nrow(re)), re$grpvar), function(i) {
    lev <- unique(re$grp[i])[seq_len(min(n, length(unique(re$grp[i]))))]
    i[re$grp[i] %in% lev]
  }))
  out <- re[sort(keep), c("grpvar", "term", "grp", "condval", "condsd")]
  out$grpvar <- as.character(out$grpvar)
  out$term <- as.character(out$term)
  rownames(out) <- NULL
  out
}

new_data <- function(fit, data) {
  nd <- data[c(1, 2, 3, nrow(data)), , drop = FALSE]
  new <- nd[1, , drop = FALSE]
  for (g in names(getME(fit, "flist"))) {
    for (v in strsplit(g, ":", fixed = TRUE)[[1]]) {
      new[[v]] <- factor("NEW_LEVEL")
    }
  }
  nd <- rbind(
    data.frame(lapply(nd, function(col) if (is.factor(col)) as.character(col) else col)),
    data.frame(lapply(new, function(col) if (is.factor(col)) as.character(col) else col))
  )
  nd
}

fit_info <- function(fit, data) {
  nd <- new_data(fit, data)
  vc <- as.data.frame(VarCorr(fit))
  vc$grp <- as.character(vc$grp)
  out <- list(
    "isREML(fit)" = isREML(fit),
    "nobs(fit)" = nobs(fit),
    "ngrps(fit)" = as.list(ngrps(fit)),
    "as.numeric(logLik(fit))" = as.numeric(logLik(fit)),
    "attr(logLik(fit), 'df')" = attr(logLik(fit), "df"),
    "AIC(fit)" = AIC(fit),
    "BIC(fit)" = BIC(fit),
    "deviance(fit, REML = FALSE)" = if (isREML(fit)) NULL else deviance(fit),
    "REMLcrit(fit)" = if (isREML(fit)) REMLcrit(fit) else NULL,
    "getME(fit, 'theta')" = named(getME(fit, "theta")),
    "sigma(fit)" = sigma(fit),
    "fixef(fit)" = named(fixef(fit)),
    "coef(summary(fit)) with Satterthwaite df; ci = Estimate +/- qt(0.975, df) * SE" =
      coef_table(fit),
    "as.matrix(vcov(fit))" = unname(as.matrix(vcov(fit))),
    "as.data.frame(VarCorr(fit))" = vc,
    "as.data.frame(ranef(fit, condVar = TRUE)), first 3 levels per group" = ranef_head(fit),
    "newdata" = nd,
    "predict(fit, newdata, allow.new.levels = TRUE)" =
      unname(predict(fit, newdata = nd, allow.new.levels = TRUE)),
    "predict(fit, newdata, re.form = NA)" = unname(predict(fit, newdata = nd, re.form = NA)),
    "head(fitted(fit), 5)" = unname(head(fitted(fit), 5)),
    "head(residuals(fit), 5)" = unname(head(residuals(fit), 5))
  )
  out
}

perf_info <- function(fit) {
  icc <- performance::icc(fit)
  icc_g <- suppressWarnings(performance::icc(fit, by_group = TRUE))
  r2 <- performance::r2_nakagawa(fit)
  list(
    "performance::icc(fit)$ICC_adjusted" = icc$ICC_adjusted,
    "performance::icc(fit)$ICC_unadjusted" = icc$ICC_unadjusted,
    "performance::icc(fit, by_group = TRUE)" =
      data.frame(group = as.character(icc_g$Group), icc = as.numeric(icc_g$ICC)),
    "performance::r2_nakagawa(fit)$R2_marginal" = unname(r2$R2_marginal),
    "performance::r2_nakagawa(fit)$R2_conditional" = unname(r2$R2_conditional),
    "insight::get_variance(fit)" = lapply(insight::get_variance(fit), function(v) {
      if (length(v) > 1) as.list(v) else unname(v)
    })
  )
}

contest_info <- function(fit, L) {
  ct <- contest(fit, L, joint = TRUE)
  c1 <- contest(fit, L, joint = FALSE)
  list(
    L = unname(L),
    "contest(fit, L, joint = TRUE)" = data.frame(
      sum_sq = ct[["Sum Sq"]], mean_sq = ct[["Mean Sq"]], num_df = ct[["NumDF"]],
      den_df = ct[["DenDF"]], f = ct[["F value"]], p = ct[["Pr(>F)"]]
    ),
    "contest(fit, L, joint = FALSE)" = data.frame(
      estimate = c1[["Estimate"]], se = c1[["Std. Error"]], df = c1[["df"]],
      t = c1[["t value"]], p = c1[["Pr(>|t|)"]], ci_low = c1[["lower"]], ci_high = c1[["upper"]]
    )
  )
}

models <- list(
  sleep_corr = list(data = "sleepstudy", formula = "Reaction ~ Days + (Days | Subject)"),
  sleep_uncorr = list(data = "sleepstudy", formula = "Reaction ~ Days + (Days || Subject)"),
  growth = list(data = "growth", formula = "phq ~ session * autonomy + (1 + session | client)"),
  threelevel_crossed = list(
    data = "threelevel",
    formula = "phq ~ session * readiness + (1 + session | client) + (1 | therapist)"
  ),
  threelevel_nested = list(
    data = "threelevel", formula = "phq ~ session * readiness + (1 | therapist/client)"
  ),
  stages = list(data = "stages", formula = "phq ~ session * stage + (1 + session | client)")
)

out <- list(
  versions = list(
    R = R.version.string,
    lme4 = as.character(packageVersion("lme4")),
    lmerTest = as.character(packageVersion("lmerTest")),
    performance = as.character(packageVersion("performance")),
    insight = as.character(packageVersion("insight"))
  ),
  control = "ctl <- lmerControl(optimizer = 'bobyqa', optCtrl = list(rhoend = 1e-9, maxfun = 1e5))",
  models = list()
)

for (name in names(models)) {
  m <- models[[name]]
  data <- datasets[[m$data]]
  reml <- lmerTest::lmer(as.formula(m$formula), data = data, REML = TRUE, control = ctl)
  ml <- lmerTest::lmer(as.formula(m$formula), data = data, REML = FALSE, control = ctl)
  p <- length(fixef(reml))
  L <- diag(p)[-1, , drop = FALSE]  # all coefficients except the intercept
  entry <- list(
    data = paste0(m$data, ".csv"),
    formula = m$formula,
    "lmer(formula, data, REML = TRUE, control = ctl)" = fit_info(reml, data),
    "lmer(formula, data, REML = FALSE, control = ctl)" = fit_info(ml, data),
    "REML fit: performance" = perf_info(reml),
    "REML fit: contest" = contest_info(reml, L),
    "ML fit: contest" = contest_info(ml, L)
  )
  out$models[[name]] <- entry
}

# Likelihood-ratio tables: anova(m0, m1) (lme4 refits REML fits with ML).
anova_tab <- function(a) {
  data.frame(
    model = rownames(a), npar = a$npar, aic = a$AIC, bic = a$BIC, loglik = a$logLik,
    deviance = a$deviance, chisq = a$Chisq, df = a$Df, p = a[["Pr(>Chisq)"]],
    row.names = NULL
  )
}
g1 <- lmer(phq ~ session * autonomy + (1 + session | client), data = growth, control = ctl)
g0 <- lmer(phq ~ session + autonomy + (1 + session | client), data = growth, control = ctl)
gi <- lmer(phq ~ session * autonomy + (1 | client), data = growth, control = ctl)
t1 <- lmer(phq ~ session * readiness + (1 + session | client) + (1 | therapist), data = threelevel, control = ctl)
t0 <- lmer(phq ~ session * readiness + (1 + session | client), data = threelevel, control = ctl)
out$anova <- list(
  growth_fixed = list(
    formulas = c(deparse1(formula(g0)), deparse1(formula(g1))), data = "growth.csv",
    "anova(m0, m1)" = anova_tab(suppressMessages(anova(g0, g1)))
  ),
  growth_random = list(
    formulas = c(deparse1(formula(gi)), deparse1(formula(g1))), data = "growth.csv",
    "anova(m0, m1)" = anova_tab(suppressMessages(anova(gi, g1)))
  ),
  growth_three = list(
    formulas = c(deparse1(formula(g0)), deparse1(formula(gi)), deparse1(formula(g1))),
    data = "growth.csv",
    "anova(m0, m1, m2)" = anova_tab(suppressMessages(anova(g0, gi, g1)))
  ),
  threelevel_therapist = list(
    formulas = c(deparse1(formula(t0)), deparse1(formula(t1))), data = "threelevel.csv",
    "anova(m0, m1)" = anova_tab(suppressMessages(anova(t0, t1)))
  )
)

writeLines(
  toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null", na = "null"),
  file.path(here, "reference.json")
)
cat("wrote", file.path(here, "reference.json"), "\n")
